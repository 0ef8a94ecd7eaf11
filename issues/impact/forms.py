from django import forms
from django.utils.translation import gettext_lazy as _

ALLOWED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")


class SalesUploadForm(forms.Form):
    file = forms.FileField(label=_("订单与退货文件 (CSV / XLSX)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError(_("请上传 CSV 或 XLSX 文件 (upload a CSV or XLSX file)"))
        return upload
