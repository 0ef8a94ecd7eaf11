"""Serialisers of the issues API: shapes only; the services do the work."""
from __future__ import annotations

from rest_framework import serializers

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
)


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
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
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
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = IssueActivity
        fields = ["id", "verb", "actor", "from_value", "to_value", "note", "payload", "created_at"]


class DailyPointSerializer(serializers.Serializer):
    day = serializers.DateField()
    count = serializers.IntegerField()


class SubThemeSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = SubTheme
        fields = ["id", "category", "issue", "label", "keywords", "size", "cohesion", "example_ticket_ids",
                  "is_candidate", "status", "resulting_category", "computed_at"]


class IssueDetailSerializer(IssueSerializer):
    daily = serializers.SerializerMethodField()
    representative_ticket_ids = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    allowed_transitions = serializers.SerializerMethodField()
    can_change = serializers.SerializerMethodField()
    subthemes = serializers.SerializerMethodField()

    class Meta(IssueSerializer.Meta):
        fields = IssueSerializer.Meta.fields + [
            "daily", "representative_ticket_ids", "action_taken", "action_date", "resolved_by", "resolved_at",
            "acknowledged_at", "regressed_at", "routing_rule", "allowed_transitions", "can_change", "subthemes",
        ]

    def get_daily(self, issue: Issue) -> list[dict]:
        return DailyPointSerializer(self.context.get("series", []), many=True).data

    def get_allowed_transitions(self, issue: Issue) -> list[str]:
        from issues.services import allowed_transitions

        return allowed_transitions(issue)

    def get_can_change(self, issue: Issue) -> bool:
        from issues.permissions import issue_can_change

        request = self.context.get("request")
        return bool(request and issue_can_change(request.user, issue))

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
    priority = serializers.ChoiceField(choices=Priority.values)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class MergeSerializer(serializers.Serializer):
    into = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CommentSerializer(serializers.Serializer):
    note = serializers.CharField()


class BulkTransitionSerializer(TransitionSerializer):
    ids = serializers.ListField(child=serializers.IntegerField(), max_length=500)


class RoutingRuleSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.all(), allow_null=True,
                                            required=False)
    department = serializers.SlugRelatedField(slug_field="code", queryset=Department.objects.all())
    channel = serializers.ChoiceField(choices=[("", "—"), *Channel.choices], required=False, allow_blank=True)

    class Meta:
        model = RoutingRule
        fields = ["id", "name", "order", "category", "product_category", "sku", "channel", "keywords", "department",
                  "is_active", "updated_at"]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "issue", "department", "payload", "created_at", "read_at"]


class SubThemePromoteSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40)
    name_zh = serializers.CharField(max_length=40)
    name_en = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    department = serializers.SlugRelatedField(slug_field="code", queryset=Department.objects.all(), required=False,
                                              allow_null=True, default=None)


class SubThemeMergeSerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.all())
