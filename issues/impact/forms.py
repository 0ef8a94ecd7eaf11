from django import forms
from django.utils.translation import gettext_lazy as _

ALLOWED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")


class SalesUploadForm(forms.Form):
    file = forms.FileField(label=_("订单与退货文件 (CSV / XLSX)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError(_("请上传 CSV 或 XLSX 文件"))
        return upload


class ChangeMeasureForm(forms.Form):
    """"测量一次改动": a SKU or a product category and the day something changed (never needs an issue)."""

    sku = forms.CharField(label=_("商品 SKU"), required=False, max_length=64)
    category = forms.ChoiceField(label=_("或商品品类"), required=False)
    action_date = forms.DateField(label=_("改动日期"), widget=forms.DateInput(attrs={"type": "date"}))
    window_days = forms.IntegerField(label=_("前后各几天"), min_value=1, max_value=365, required=False)

    def __init__(self, *args, categories: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + [(c, c) for c in categories]

    def clean(self):
        cleaned = super().clean()
        sku, category = (cleaned.get("sku") or "").strip(), cleaned.get("category") or ""
        if sku and category:
            raise forms.ValidationError(_("请只填商品 SKU 或商品品类其中一个"))
        if not sku and not category:
            raise forms.ValidationError(_("请填写商品 SKU 或选择商品品类"))
        if sku:
            from feedback.models import Product

            if not Product.objects.filter(sku=sku).exists():
                self.add_error("sku", _("没有 SKU 为 %(sku)s 的商品") % {"sku": sku})
        cleaned["sku"] = sku
        return cleaned
