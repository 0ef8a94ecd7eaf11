"""Serialisers of the issues API: shapes only; the services do the work."""
from __future__ import annotations
from django.utils.translation import gettext, gettext_lazy

from rest_framework import serializers

from feedback.api.fields import CodeRelatedField
from feedback.dates import date_out_of_range_message
from feedback.models import Category, Channel
from issues.models import (
    Department,
    Issue,
    IssueActivity,
    IssueStatus,
    Notification,
    Priority,
    RoutingRule,
    SubTheme,
    SubThemeStatus,
)
from issues.selectors import ORDERINGS


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name_zh", "name_en"]


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "code", "name_zh", "name_en"]


class IssueSerializer(serializers.ModelSerializer):
    category = CategoryRefSerializer(read_only=True)
    department = DepartmentRefSerializer(read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    sku = serializers.SerializerMethodField()
    growth_rate = serializers.FloatField(read_only=True)
    sparkline = serializers.SerializerMethodField(help_text="Daily tickets over the last 30 days, oldest first.")

    class Meta:
        model = Issue
        fields = [
            "id", "title", "category", "scope_type", "scope_key", "sku", "product_category", "department",
            "department_source", "status", "priority", "assignee", "ticket_count", "count_24h", "count_7d",
            "count_30d", "count_prev_7d", "growth_7d", "growth_rate", "first_seen_at", "last_seen_at",
            "is_spiking", "spiking_since", "is_overdue", "acknowledge_due_at", "resolve_due_at", "keywords",
            "regression_count", "merged_into", "created_at", "updated_at", "sparkline",
        ]

    def get_sku(self, issue: Issue) -> str | None:
        return issue.scope_key if issue.scope_type == "sku" else None

    def get_sparkline(self, issue: Issue) -> list[int] | None:
        return self.context.get("sparklines", {}).get(issue.pk)


class ActivitySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = IssueActivity
        fields = ["id", "verb", "actor", "from_value", "to_value", "note", "payload", "created_at"]


class DailyPointSerializer(serializers.Serializer):
    day = serializers.DateField()
    count = serializers.IntegerField()


class SubThemeSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = SubTheme
        fields = ["id", "category", "issue", "label", "keywords", "size", "cohesion", "example_ticket_ids",
                  "is_candidate", "status", "resulting_category", "computed_at"]


class IssueDetailSerializer(IssueSerializer):
    daily = serializers.SerializerMethodField()
    representative_ticket_ids = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    allowed_transitions = serializers.SerializerMethodField()
    can_change = serializers.SerializerMethodField()
    can_work = serializers.SerializerMethodField()
    subthemes = serializers.SerializerMethodField()

    class Meta(IssueSerializer.Meta):
        fields = IssueSerializer.Meta.fields + [
            "daily", "representative_ticket_ids", "action_taken", "action_date", "resolved_by", "resolved_at",
            "acknowledged_at", "regressed_at", "routing_rule", "allowed_transitions", "can_change", "can_work", "subthemes",
        ]

    def get_daily(self, issue: Issue) -> list[dict]:
        return DailyPointSerializer(self.context.get("series", []), many=True).data

    def get_allowed_transitions(self, issue: Issue) -> list[str]:
        from issues.selectors import allowed_transitions

        return allowed_transitions(issue)

    def get_can_change(self, issue: Issue) -> bool:
        from issues.permissions import issue_can_change

        request = self.context.get("request")
        return bool(request and issue_can_change(request.user, issue))

    def get_can_work(self, issue: Issue) -> bool:
        """Whether the caller may move the status and comment: can_change, or the issue is assigned to them."""
        from issues.permissions import issue_can_work

        request = self.context.get("request")
        return bool(request and issue_can_work(request.user, issue))

    def get_subthemes(self, issue: Issue) -> list[dict]:
        return SubThemeSerializer(self.context.get("subthemes", []), many=True).data


# The statuses a person may move an issue to (merged and regressed are set by the system); named in
# settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] so the schema does not call it "Status2edEnum".
TRANSITION_STATUSES = [s for s in IssueStatus.values if s not in ("merged", "regressed")]


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TRANSITION_STATUSES)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    action_taken = serializers.CharField(required=False, allow_blank=True, default="",
                                         help_text="Required when status is resolved, e.g. 详情页增加尺寸对比图.")
    action_date = serializers.DateField(required=False, allow_null=True, default=None,
                                        help_text="Required when status is resolved.")


class AssignSerializer(serializers.Serializer):
    assignee = serializers.CharField(allow_null=True, help_text="Username or user id; null to unassign.")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class PrioritySerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=[*Priority.values, "auto"],
                                       help_text="P1-P4 sets it by hand; auto goes back to the computed priority.")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class MergeSerializer(serializers.Serializer):
    into = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CommentSerializer(serializers.Serializer):
    note = serializers.CharField()


class BulkTransitionSerializer(TransitionSerializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1,
                                max_length=500)


class RoutingRuleSerializer(serializers.ModelSerializer):
    category = CodeRelatedField(slug_field="code", queryset=Category.objects.all(), allow_null=True,
                                            required=False)
    department = CodeRelatedField(slug_field="code", queryset=Department.objects.all())
    channel = serializers.ChoiceField(choices=[("", "—"), *Channel.choices], required=False, allow_blank=True)
    # Required to save a rule that moves issues someone is working, or to a department without a lead.
    confirm_moves = serializers.BooleanField(write_only=True, required=False, default=False)

    class Meta:
        model = RoutingRule
        fields = ["id", "name", "order", "category", "product_category", "sku", "channel", "keywords", "department",
                  "is_active", "new_issues_only", "confirm_moves", "updated_at"]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "issue", "department", "payload", "created_at", "read_at"]


class SubThemePromoteSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40)
    name_zh = serializers.CharField(max_length=40)
    name_en = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    department = CodeRelatedField(slug_field="code", queryset=Department.objects.all(), required=False,
                                              allow_null=True, default=None)


class SubThemeMergeSerializer(serializers.Serializer):
    category = CodeRelatedField(slug_field="code", queryset=Category.objects.all())


# --- query parameters, validated so a bad one is a 400 naming it (never a 500 deep in a query) ---

ID_PATTERN = r"^[0-9]{1,18}$"
TRUTHY_CHOICES = ["1", "0", "true", "false", "yes", "no", "on", "off"]


def _status_list(value: str) -> str:
    if value == "open":
        return value
    unknown = [s for s in value.split(",") if s not in IssueStatus.values]
    if unknown:
        raise serializers.ValidationError(
            gettext("未知状态 %(unknown)s；可用 open 或 %(values)s 的逗号列表") % {"unknown": ', '.join(unknown), "values": ', '.join(IssueStatus.values)})
    return value


class IssueListQuerySerializer(serializers.Serializer):
    category = serializers.CharField(required=False, allow_blank=True, max_length=40, help_text="Category code or id.")
    also = serializers.CharField(
        required=False, allow_blank=True, max_length=40,
        help_text="Category code or id: only issues holding tickets an agent marked as also about it "
                  "(their counts are unchanged: a ticket counts under its first category only).",
    )
    department = serializers.CharField(required=False, allow_blank=True, max_length=40,
                                       help_text="Department code or id, or `mine`.")
    status = serializers.CharField(required=False, allow_blank=True, max_length=200, validators=[_status_list],
                                   help_text="`open`, a status, or a comma list of statuses.")
    spiking = serializers.ChoiceField(choices=TRUTHY_CHOICES, required=False, allow_blank=True)
    overdue = serializers.ChoiceField(choices=TRUTHY_CHOICES, required=False, allow_blank=True)
    product = serializers.CharField(required=False, allow_blank=True, max_length=64, help_text="SKU.")
    product_category = serializers.CharField(required=False, allow_blank=True, max_length=40)
    priority = serializers.ChoiceField(choices=Priority.values, required=False, allow_blank=True)
    assignee = serializers.RegexField(r"^(me|[0-9]{1,18})$", required=False, allow_blank=True,
                                      help_text="`me` or a user id.",
                                      error_messages={"invalid": gettext_lazy("应为 me 或用户编号")})
    q = serializers.CharField(required=False, allow_blank=True, max_length=200,
                              help_text="Text in the title, scope or keywords.")
    ordering = serializers.ChoiceField(choices=list(ORDERINGS), required=False, allow_blank=True)


class DepartmentQuerySerializer(serializers.Serializer):
    department = serializers.CharField(required=False, allow_blank=True, max_length=40,
                                       help_text="Department code; default: your own.")


class ReportQuerySerializer(serializers.Serializer):
    day = serializers.DateField(required=False, allow_null=True, help_text="YYYY-MM-DD, default yesterday.")
    export = serializers.ChoiceField(choices=["csv", "xlsx"], required=False, allow_blank=True)

    def validate_day(self, day):
        if day is not None and (problem := date_out_of_range_message(day)):
            raise serializers.ValidationError(problem)
        return day


class PreviewQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(required=False, default=30, min_value=1, max_value=365,
                                    help_text="How many recent days of tickets to try the rule on.")


class SubThemeQuerySerializer(serializers.Serializer):
    candidate = serializers.ChoiceField(choices=TRUTHY_CHOICES, required=False, allow_blank=True)
    category = serializers.CharField(required=False, allow_blank=True, max_length=40, help_text="Category code.")
    issue = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1, help_text="Issue id.")
    status = serializers.ChoiceField(choices=SubThemeStatus.values, required=False, allow_blank=True)


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.ChoiceField(choices=TRUTHY_CHOICES, required=False, allow_blank=True)


class NotificationReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False,
                                allow_null=True, max_length=10000,
                                help_text="Notification ids; omit (or null) to mark all read.")


class NotificationReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


# --- response shapes of actions that build their answer by hand (documentation only) ---

class ReportRowSerializer(serializers.Serializer):
    issue = IssueSerializer()
    count = serializers.IntegerField(help_text="Tickets on the report day.")
    baseline = serializers.FloatField(help_text="Mean daily tickets over the 7 days before.")
    growth = serializers.FloatField(help_text="count - baseline.")


class DailyReportSerializer(serializers.Serializer):
    day = serializers.DateField()
    tickets = serializers.IntegerField()
    top_by_volume = ReportRowSerializer(many=True)
    top_by_growth = ReportRowSerializer(many=True)
    new = ReportRowSerializer(many=True)
    spiking = ReportRowSerializer(many=True)
    resolved = IssueSerializer(many=True)


class BulkTransitionResultSerializer(serializers.Serializer):
    changed = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the issues changed.")
    refused = serializers.DictField(child=serializers.CharField(), help_text="Issue id -> why it was refused.")


class PreviewTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    category = serializers.CharField(allow_null=True)
    sku = serializers.CharField(allow_blank=True)
    channel = serializers.CharField()
    received_at = serializers.DateTimeField()


class RuleMoveSerializer(serializers.Serializer):
    issue = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    assignee = serializers.CharField(allow_null=True)
    from_department = serializers.CharField(allow_null=True)
    to_department = serializers.CharField(allow_null=True)
    taken = serializers.BooleanField(help_text="in progress or assigned: saving needs confirm_moves")
    target_has_lead = serializers.BooleanField()


class RulePreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    shadowed = serializers.IntegerField()
    issues = serializers.IntegerField()
    days = serializers.IntegerField()
    tickets = PreviewTicketSerializer(many=True)
    moves = RuleMoveSerializer(many=True)
