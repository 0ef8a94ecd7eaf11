"""The upload form: checks size and mapping, then opens the file to refuse an unreadable one at once."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import columns
from .products import PRODUCTS
from .readers import ImportFileError
from .service import import_preflight

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


@contextmanager
def upload_path(upload) -> Iterator[str]:
    """A filesystem path for an uploaded file (large uploads already have one; small ones live in memory)."""
    if hasattr(upload, "temporary_file_path"):
        yield upload.temporary_file_path()
        return
    suffix = os.path.splitext(upload.name or "")[1][:10]
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        for chunk in upload.chunks():
            copy.write(chunk)
        copy.flush()
        yield copy.name
    upload.seek(0)


def _upload_size_check(upload):
    limit = max_upload_bytes()
    if upload.size > limit:
        raise forms.ValidationError(
            _("文件过大：%(size).1f MB，上限 %(limit)d MB。请拆分后分批导入。"),
            params={"size": upload.size / 1024 / 1024, "limit": limit // (1024 * 1024)},
            code="too_large",
        )
    return upload


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("文件"),
        help_text=_("CSV（UTF-8、GB18030/GBK、Big5）或 XLSX；表头前的标题行、合计行会自动跳过。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt,.tsv"}),
    )
    source = forms.CharField(
        label=_("来源系统"),
        max_length=40,
        required=False,
        initial="",
        help_text=_("留空则按表头自动识别平台（taobao、jd、pdd、douyin、kuaishou）；同一来源的同一工单号只导入一次。"),
    )
    column_mapping = forms.CharField(
        label=_("列映射（可选）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "评价正文=text\n宝贝ID=sku", "spellcheck": "false"}),
        help_text=_("每行一条：列名=字段。字段：text、external_id、sku、order_number、channel、received_at，或 ignore。"),
    )

    def clean_file(self):
        return _upload_size_check(self.cleaned_data["file"])

    def clean_source(self) -> str:
        # Blank means "detect the platform from the headers" (the importer falls back to DEFAULT_SOURCE).
        return (self.cleaned_data.get("source") or "").strip()

    def clean_column_mapping(self) -> dict[str, str]:
        try:
            return columns.column_mapping_parse(self.cleaned_data.get("column_mapping") or "")
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="bad_mapping") from None

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None or "column_mapping" not in cleaned:
            return cleaned
        try:
            with upload_path(upload) as path:
                import_preflight(path=path, column_mapping=cleaned["column_mapping"], source=cleaned.get("source"))
        except ImportFileError as exc:
            self.add_error("file", str(exc))
        return cleaned


class ProductImportForm(forms.Form):
    """A product catalogue upload; imported at once (catalogues are small next to ticket exports)."""

    file = forms.FileField(
        label=_("商品文件"),
        help_text=_("CSV 或 XLSX：商家编码（SKU）、商品名称，可选 类目/品类、价格；按商家编码新建或更新。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt,.tsv"}),
    )
    column_mapping = forms.CharField(
        label=_("列映射（可选）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "货品编号=sku\n货品名称=name", "spellcheck": "false"}),
        help_text=_("每行一条：列名=字段。字段：sku、name、category、price，或 ignore。"),
    )

    def clean_file(self):
        return _upload_size_check(self.cleaned_data["file"])

    def clean_column_mapping(self) -> dict[str, str]:
        try:
            return columns.column_mapping_parse(self.cleaned_data.get("column_mapping") or "", schema=PRODUCTS)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="bad_mapping") from None


# Field names as the wizard's dropdowns show them.
WIZARD_FIELD_LABELS = {
    columns.IGNORE: _("不导入"),
    "text": _("投诉内容（可多列）"),
    "external_id": _("工单号"),
    "order_number": _("订单号"),
    "sku": _("商家编码 / SKU"),
    "product_name": _("商品名称"),
    "channel": _("渠道"),
    "received_at": _("申请/创建时间"),
}


class WizardUploadForm(forms.Form):
    """Step 1 of the import wizard: the file (and, optionally, the platform)."""

    file = forms.FileField(
        label=_("文件"),
        help_text=_("CSV（UTF-8、GB18030/GBK、Big5）或 XLSX；表头前的标题行、合计行会自动跳过。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt,.tsv"}),
    )
    source = forms.CharField(
        label=_("来源系统"), max_length=40, required=False,
        help_text=_("留空则按表头自动识别平台（taobao、jd、pdd、douyin、kuaishou）；同一来源的同一工单号只导入一次。"),
    )

    def clean_file(self):
        return _upload_size_check(self.cleaned_data["file"])

    def clean_source(self) -> str:
        return (self.cleaned_data.get("source") or "").strip()


class WizardMappingForm(forms.Form):
    """Step 2: a field for every column, the platform (id namespace), and an optional name to save the mapping as."""

    source = forms.CharField(label=_("来源系统"), max_length=40, required=False)
    preset_name = forms.CharField(
        label=_("保存为列映射方案（可选）"), max_length=60, required=False,
        help_text=_("下次上传同样格式的文件时可直接选用。"),
    )

    def __init__(self, *args, headers: list[str], initial_fields: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = list(WIZARD_FIELD_LABELS.items())
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or _("第 %(number)d 列") % {"number": index + 1},
                choices=choices, required=False,
                initial=(initial_fields or [])[index] if initial_fields and index < len(initial_fields) else columns.IGNORE,
                disabled=not header,  # a column without a header cannot be named in a mapping
            )

    def column_fields(self):
        return [self[f"col_{index}"] for index in range(len(self.headers))]

    def clean(self):
        cleaned = super().clean()
        mapping: dict[str, str] = {}
        for index, header in enumerate(self.headers):
            field_name = cleaned.get(f"col_{index}") or columns.IGNORE
            if not header:
                continue
            if header in mapping and mapping[header] != field_name:
                raise forms.ValidationError(
                    _("有两列都叫「%(header)s」：请在文件中改名后再上传。"), params={"header": header}, code="duplicate",
                )
            mapping[header] = field_name
        if "text" not in mapping.values():
            raise forms.ValidationError(_("请至少把一列设为“投诉内容”。"), code="no_text")
        try:
            columns.columns_resolve(self.headers, mapping=mapping)
        except ImportFileError as exc:
            raise forms.ValidationError(str(exc), code="bad_mapping") from None
        cleaned["mapping"] = mapping
        return cleaned
