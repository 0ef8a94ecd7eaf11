from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from .models import (
    Department,
    Issue,
    IssueActivity,
    IssueDaily,
    Notification,
    NotificationDelivery,
    RoutingRule,
    SubTheme,
)
from .services import routing_rule_delete, routing_rule_save


class MemberInline(admin.TabularInline):
    """The department's team. Add someone by setting their department on the user's own page; here
    an admin changes a member's role (agent or lead) or deactivates them. Removing a row would delete the user."""

    model = get_user_model()
    fk_name = "department"
    extra = 0
    can_delete = False
    fields = ("username", "first_name", "role", "is_active")
    readonly_fields = ("username", "first_name")
    verbose_name = _("成员")
    verbose_name_plural = _("成员（在用户页设置部门即可加入）")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "member_count", "email", "webhook_url")
    inlines = [MemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(active_members=Count("members", filter=Q(members__is_active=True)))

    @admin.display(description=_("成员数"), ordering="active_members")
    def member_count(self, obj) -> int:
        return obj.active_members


class ActivityInline(admin.TabularInline):
    model = IssueActivity
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "verb", "from_value", "to_value", "note")
    fields = readonly_fields


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    """Read-mostly: workflow changes go through the pages/API so they are logged and checked."""

    list_display = ("id", "title", "category", "department", "status", "priority", "ticket_count", "count_7d",
                    "is_spiking", "is_overdue")
    list_filter = ("status", "category", "department", "is_spiking", "is_overdue", "priority")
    search_fields = ("title", "scope_key")
    list_select_related = ("category", "department")
    readonly_fields = [f.name for f in Issue._meta.fields if f.name not in ("title", "priority")]
    inlines = [ActivityInline]


@admin.register(IssueDaily)
class IssueDailyAdmin(admin.ModelAdmin):
    list_display = ("issue", "day", "count")
    list_filter = ("day",)
    raw_id_fields = ("issue",)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Saving or deleting a rule re-routes open issues in the background (same service as the API)."""

    list_display = ("order", "name", "category", "product_category", "sku", "channel", "keywords", "department",
                    "is_active")
    list_display_links = ("name",)
    list_editable = ("order", "is_active")
    list_filter = ("department", "is_active")

    def save_model(self, request, obj, form, change):
        routing_rule_save(rule=obj, actor=request.user)

    def delete_model(self, request, obj):
        routing_rule_delete(rule=obj)


@admin.register(SubTheme)
class SubThemeAdmin(admin.ModelAdmin):
    list_display = ("label", "category", "issue", "size", "cohesion", "is_candidate", "status", "computed_at")
    list_filter = ("is_candidate", "status", "category")
    raw_id_fields = ("issue",)


class DeliveryInline(admin.TabularInline):
    model = NotificationDelivery
    extra = 0
    readonly_fields = ("channel", "target", "status", "attempts", "last_error", "sent_at")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "title", "department", "recipient", "read_at")
    list_filter = ("kind", "department")
    inlines = [DeliveryInline]
