"""Forms of the issue-library pages. They only shape input: the workflow rules
(what may follow what, what resolving needs) live in issues.services, so the
pages and the API cannot disagree."""
from __future__ import annotations

from datetime import date

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from feedback.dates import date_out_of_range_message
from feedback.models import Category, Channel

from .models import Department, Issue, IssueStatus, Priority, RoutingRule
from .selectors import issue_assignee_candidates


class LocalizedChoiceField(forms.ModelChoiceField):
    """A category or department shown in the active language."""

    def label_from_instance(self, obj) -> str:
        return obj.display_name(get_language() or "zh-hans")


class IdListField(forms.Field):
    """Several integer ids sent as repeated fields (checkboxes named ``issue_ids``)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, (list, tuple)) else [value]
        try:
            return sorted({int(v) for v in values})
        except (TypeError, ValueError):
            raise forms.ValidationError(_("编号无效。"), code="invalid") from None

    def validate(self, value) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class ServiceErrorsMixin:
    """Show each error of an IssueActionError next to the field it names (or above the form)."""

    def add_service_errors(self, error) -> None:
        for field, message in error.errors.items():
            self.add_error(field if field in self.fields else None, message)


# --- library and queue ---

STATUS_FILTER_CHOICES = [("", _("全部状态")), ("open", _("未关闭"))] + list(IssueStatus.choices)
ORDERING_CHOICES = [
    ("volume", _("近 7 天工单最多")),
    ("growth", _("增长最快")),
    ("volume_30d", _("近 30 天工单最多")),
    ("recent", _("最近出现")),
    ("new", _("最新发现")),
    ("total", _("累计工单最多")),
    ("priority", _("优先级")),
]
PAGE_SIZES = (10, 25, 50, 100)


class IssueFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, strip=True, max_length=100)
    category = forms.ChoiceField(label=_("类别"), required=False)
    # Issues holding tickets also about a category (Ticket.also_category): a filter, never a count.
    also = forms.ChoiceField(label=_("也涉及"), required=False)
    department = forms.ChoiceField(label=_("部门"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=STATUS_FILTER_CHOICES)
    spiking = forms.BooleanField(label=_("只看激增"), required=False)
    ordering = forms.ChoiceField(label=_("排序"), required=False, choices=ORDERING_CHOICES)
    per_page = forms.TypedChoiceField(
        label=_("每页"), required=False, coerce=int, empty_value=50, choices=[(n, n) for n in PAGE_SIZES]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = get_language() or "zh-hans"
        self.fields["category"].choices = [("", _("全部类别"))] + [
            (c.code, c.display_name(language)) for c in Category.objects.order_by("sort_order", "id")
        ]
        self.fields["also"].choices = [("", _("不限"))] + self.fields["category"].choices[1:]
        self.fields["department"].choices = [("", _("全部部门"))] + [
            (d.code, d.display_name(language)) for d in Department.objects.order_by("id")
        ]

    def to_filters(self) -> dict:
        """Return the filters of issues.selectors.issue_list; call after is_valid()."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "q": data.get("q") or "",
            "category": data.get("category") or "",
            "also": data.get("also") or "",
            "department": data.get("department") or "",
            "status": data.get("status") or "",
            "spiking": True if data.get("spiking") else None,
            "ordering": data.get("ordering") or "volume",
        }

    @property
    def page_size(self) -> int:
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get("per_page") or 50
        return 50


class BulkActionForm(forms.Form):
    ACKNOWLEDGE = "acknowledge"
    START = "start"
    IGNORE = "ignore"
    ASSIGN_ME = "assign_me"
    # The status each bulk action moves to; assigning is not a transition.
    TRANSITIONS = {ACKNOWLEDGE: IssueStatus.ACKNOWLEDGED, START: IssueStatus.IN_PROGRESS, IGNORE: IssueStatus.IGNORED}

    action = forms.ChoiceField(
        choices=[(ACKNOWLEDGE, _("确认")), (START, _("开始处理")), (IGNORE, _("忽略")), (ASSIGN_ME, _("指派给我"))]
    )
    issue_ids = IdListField(error_messages={"required": _("请先勾选问题。")})
    note = forms.CharField(required=False, strip=True, max_length=1000)


# --- issue detail ---


class TransitionForm(ServiceErrorsMixin, forms.Form):
    """One status change; resolving also carries the action taken and its date (the service checks them)."""

    to_status = forms.ChoiceField(choices=IssueStatus.choices, widget=forms.HiddenInput)
    action_taken = forms.CharField(
        label=_("采取的措施"), required=False, strip=True, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("例如：开通同城半日达；详情页增加尺寸对比图")}),
    )
    action_date = forms.DateField(
        label=_("措施日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(
        label=_("备注"), required=False, strip=True, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action_date"].widget.attrs["max"] = timezone.localdate().isoformat()
        if not self.is_bound:
            self.initial.setdefault("action_date", timezone.localdate())


class AssignForm(ServiceErrorsMixin, forms.Form):
    assignee = forms.ModelChoiceField(label=_("处理人"), queryset=get_user_model().objects.none(), required=False,
                                      empty_label=_("（无人）"))
    note = forms.CharField(label=_("备注"), required=False, strip=True, max_length=1000)

    def __init__(self, *args, issue: Issue, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = issue_assignee_candidates(issue=issue, actor=user)
        # Who is who on the team: "陈立 (lead_logistics) · 部门负责人".
        self.fields["assignee"].label_from_instance = lambda u: (
            f"{u.get_full_name()} ({u.username})" if u.get_full_name() else u.username
        ) + f" · {u.get_role_display()}"
        if not self.is_bound:
            self.initial.setdefault("assignee", issue.assignee_id)


class MergeForm(ServiceErrorsMixin, forms.Form):
    into = forms.IntegerField(label=_("合并到问题编号"), min_value=1, widget=forms.NumberInput(attrs={"list": "merge-targets"}))
    note = forms.CharField(label=_("备注"), required=False, strip=True, max_length=1000)

    def clean_into(self) -> Issue:
        issue = Issue.objects.select_related("department").filter(pk=self.cleaned_data["into"]).first()
        if issue is None:
            raise forms.ValidationError(_("没有这个问题编号。"))
        return issue


class CommentForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(label=_("备注"), strip=True, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": _("备注不能为空。")})


class PriorityForm(ServiceErrorsMixin, forms.Form):
    # "auto" hands the priority back to the computation (spike, volume, growth, age, SLA).
    priority = forms.ChoiceField(label=_("优先级"), choices=[("auto", _("自动（按信号计算）")), *Priority.choices])
    note = forms.CharField(label=_("备注"), required=False, strip=True, max_length=1000)


class DepartmentForm(ServiceErrorsMixin, forms.Form):
    department = LocalizedChoiceField(label=_("转交部门"), queryset=Department.objects.order_by("id"))
    note = forms.CharField(label=_("备注"), required=False, strip=True, max_length=1000)
    confirm_no_lead = forms.BooleanField(label=_("确认转给没有负责人的部门（仅管理员）"), required=False)


# --- report ---


class ReportDayForm(forms.Form):
    day = forms.DateField(label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_day(self) -> date | None:
        day = self.cleaned_data.get("day")
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("日期不能在未来。"))
        if day and (problem := date_out_of_range_message(day)):
            raise forms.ValidationError(problem)
        return day


# --- routing rules ---


class RoutingRuleForm(forms.ModelForm):
    category = LocalizedChoiceField(label=_("类别"), queryset=Category.objects.order_by("sort_order", "id"),
                                    required=False, empty_label=_("任意类别"))
    department = LocalizedChoiceField(label=_("部门"), queryset=Department.objects.order_by("id"))
    channel = forms.ChoiceField(label=_("渠道"), required=False, choices=[("", _("任意渠道"))] + list(Channel.choices))

    class Meta:
        model = RoutingRule
        fields = ["name", "order", "category", "product_category", "sku", "channel", "keywords", "department",
                  "is_active", "new_issues_only"]
        widgets = {"keywords": forms.Textarea(attrs={"rows": 2, "placeholder": _("例如：冷链, 化了, 变质")})}

    confirm_moves = forms.BooleanField(label=_("确认移动这些问题"), required=False)

    def __init__(self, *args, preview: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if preview:
            # A preview needs only the conditions: no name or department yet.
            self.fields["name"].required = False
            self.fields["department"].required = False


# --- sub-theme candidates ---


class PromoteForm(ServiceErrorsMixin, forms.Form):
    name_zh = forms.CharField(label=_("中文名"), max_length=40, strip=True)
    name_en = forms.CharField(label=_("英文名"), max_length=60, strip=True, required=False)
    code = forms.SlugField(label=_("代码"), max_length=40, required=False,
                           help_text=_("留空则由英文名生成"))
    department = LocalizedChoiceField(label=_("负责部门"), queryset=Department.objects.order_by("id"), required=False,
                                      empty_label=_("（暂不指定）"))

    def clean(self):
        data = super().clean()
        code = data.get("code") or slugify(data.get("name_en") or "").replace("-", "_")
        if not code and not self.errors:
            self.add_error("code", _("请填写代码或英文名。"))
        data["code"] = code
        return data


class CandidateMergeForm(ServiceErrorsMixin, forms.Form):
    category = LocalizedChoiceField(label=_("并入已有类别"), queryset=Category.objects.filter(is_active=True)
                                    .order_by("sort_order", "id"), empty_label=_("选择类别…"))
