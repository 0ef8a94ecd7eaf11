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
