"""Page forms. They only shape input: the rules live in feedback.services, so the
form, the API and the importer cannot disagree about what a valid ticket is."""
from __future__ import annotations

from datetime import date

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .dates import date_out_of_range_message
from .models import Category, Channel, TriageStatus
from .selectors import TicketFilters, product_for_input
from .services import TicketInput, TicketValidationError

# Where each field named by TicketValidationError is shown on the form.
SERVICE_FIELD_TO_FORM_FIELD = {"text": "text", "channel": "channel", "sku": "product", "order_number": "order_number"}


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return obj.display_name(get_language() or "zh-hans")


class TicketForm(forms.Form):
    # Not required and not stripped here: ticket_validate owns the empty, whitespace and length rules.
    text = forms.CharField(
        label=_("投诉内容"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 7, "autofocus": True, "data-counter-max": 5000}),
    )
    channel = forms.ChoiceField(label=_("渠道"), choices=Channel.choices, initial=Channel.CHAT)
    product = forms.CharField(
        label=_("商品"),
        required=False,
        strip=True,
        help_text=_("输入 SKU 或商品名称，从下拉列表中选择；未知 SKU 也会保存，并给出提醒。"),
        widget=forms.TextInput(attrs={"list": "product-options", "autocomplete": "off", "data-product-search": reverse_lazy("product-search")}),
    )
    order_number = forms.CharField(label=_("订单号"), required=False, strip=True)

    def to_ticket_input(self) -> TicketInput:
        """Return the service input for the cleaned form; call after is_valid()."""
        value = self.cleaned_data.get("product", "")
        product = product_for_input(value=value)
        return TicketInput(
            text=self.cleaned_data.get("text", ""),
            channel=self.cleaned_data["channel"],
            product=product,
            sku=product.sku if product else value,
            order_number=self.cleaned_data.get("order_number", ""),
        )

    def add_service_errors(self, error: TicketValidationError) -> None:
        """Show each error of the service next to the field it names."""
        for field, message in error.errors.items():
            self.add_error(SERVICE_FIELD_TO_FORM_FIELD.get(field), message)


class TicketFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, strip=True)
    channel = forms.ChoiceField(label=_("渠道"), required=False)
    category = forms.ChoiceField(label=_("类别"), required=False)
    # Tickets an agent marked as also about a category (the issue library links here with it).
    also_category = forms.ChoiceField(label=_("也涉及"), required=False)
    triage_status = forms.ChoiceField(label=_("分类状态"), required=False)
    received_from = forms.DateField(label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    received_to = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    # Set by the link on an import's summary page, not shown as a filter.
    import_job = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    # Bounded so that a hand-edited ?issue= is an error message on the page, not a database error.
    issue = forms.IntegerField(
        label=_("所属问题"), required=False, min_value=1, max_value=2**31 - 1,
        widget=forms.NumberInput(attrs={"placeholder": "#", "class": "filters__narrow"}),
    )

    # Set by the column headers, not shown as a field; an unknown value sorts newest first.
    sort = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = get_language() or "zh-hans"
        everything = [("", _("全部"))]
        self.fields["channel"].choices = everything + list(Channel.choices)
        self.fields["triage_status"].choices = everything + list(TriageStatus.choices)
        self.fields["category"].choices = everything + [
            (category.code, category.display_name(language)) for category in Category.objects.all()
        ]
        self.fields["also_category"].choices = self.fields["category"].choices

    def clean_received_from(self) -> date | None:
        return _supported_date(self.cleaned_data.get("received_from"))

    def clean_received_to(self) -> date | None:
        return _supported_date(self.cleaned_data.get("received_to"))

    def to_filters(self) -> TicketFilters:
        """Return the valid filters; a malformed field is ignored (and shown as an error) rather than failing the page."""
        self.is_valid()
        data = {name: value for name, value in getattr(self, "cleaned_data", {}).items() if value}
        return TicketFilters(**data)


class CategoryConfirmForm(forms.Form):
    category = CategoryChoiceField(
        label=_("确认类别"),
        queryset=Category.objects.filter(is_active=True),
        to_field_name="code",
        # No preselected category when there is no prediction: a stray click must not label the ticket.
        empty_label=_("请选择类别"),
    )


def _supported_date(day: date | None) -> date | None:
    if day is not None and (problem := date_out_of_range_message(day)):
        raise forms.ValidationError(problem, code="out_of_range")
    return day


class CategoryThresholdForm(forms.Form):
    """An admin's confidence threshold for one category: set (0 < t < 1) or clear."""

    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True), to_field_name="code",
        error_messages={"invalid_choice": _("没有这个类别。"), "required": _("没有这个类别。")},
    )
    threshold = forms.FloatField(
        label=_("阈值"), required=False, error_messages={"invalid": _("阈值必须是大于 0 且小于 1 的数字，例如 0.7。")}
    )
    clear = forms.BooleanField(required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("category") is None or cleaned.get("clear") or "threshold" in self.errors:
            return cleaned
        threshold = cleaned.get("threshold")
        if threshold is None or not 0 < threshold < 1:
            self.add_error("threshold", _("阈值必须是大于 0 且小于 1 的数字，例如 0.7。"))
        return cleaned
