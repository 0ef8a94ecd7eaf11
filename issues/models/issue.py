"""The issue library: recurring problems, their daily series and their activity log."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# The scope of a category-wide issue in its generated title (issues.services.grouping._issue_title).
ALL_PRODUCTS_ZH = "全部商品"


class ScopeType(models.TextChoices):
    SKU = "sku", _("单品 SKU")
    PRODUCT_CATEGORY = "product_category", _("商品品类")
    CUSTOM = "custom", _("自定义")
    # The ticket names neither a SKU nor a product category: the issue is the whole category.
    CATEGORY = "category", _("整个类别")


class IssueStatus(models.TextChoices):
    NEW = "new", _("新问题")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    IN_PROGRESS = "in_progress", _("处理中")
    RESOLVED = "resolved", _("已解决")
    CLOSED = "closed", _("已关闭")
    IGNORED = "ignored", _("已忽略")
    MERGED = "merged", _("已合并")
    # A resolved issue whose tickets came back at their former rate.
    REGRESSED = "regressed", _("复发")


# Statuses a department still has to act on: these make up its queue.
OPEN_STATUSES = (IssueStatus.NEW, IssueStatus.REGRESSED, IssueStatus.ACKNOWLEDGED, IssueStatus.IN_PROGRESS)
# Statuses waiting for a first response (the acknowledge SLA applies).
UNACKNOWLEDGED_STATUSES = (IssueStatus.NEW, IssueStatus.REGRESSED)
# The lead workflow: which status may follow which ("merged" is reached only through issue_merge).
TRANSITIONS: dict[str, frozenset[str]] = {
    IssueStatus.NEW: frozenset({IssueStatus.ACKNOWLEDGED, IssueStatus.IN_PROGRESS, IssueStatus.RESOLVED, IssueStatus.IGNORED}),
    IssueStatus.REGRESSED: frozenset(
        {IssueStatus.ACKNOWLEDGED, IssueStatus.IN_PROGRESS, IssueStatus.RESOLVED, IssueStatus.IGNORED}
    ),
    IssueStatus.ACKNOWLEDGED: frozenset({IssueStatus.IN_PROGRESS, IssueStatus.RESOLVED, IssueStatus.IGNORED}),
    IssueStatus.IN_PROGRESS: frozenset({IssueStatus.ACKNOWLEDGED, IssueStatus.RESOLVED, IssueStatus.IGNORED}),
    IssueStatus.RESOLVED: frozenset({IssueStatus.CLOSED, IssueStatus.IN_PROGRESS}),
    IssueStatus.CLOSED: frozenset({IssueStatus.IN_PROGRESS}),
    IssueStatus.IGNORED: frozenset({IssueStatus.NEW}),
    IssueStatus.MERGED: frozenset(),
}
DONE_STATUSES = (IssueStatus.RESOLVED, IssueStatus.CLOSED)


class Priority(models.TextChoices):
    P1 = "P1", _("P1 紧急")
    P2 = "P2", _("P2 高")
    P3 = "P3", _("P3 中")
    P4 = "P4", _("P4 低")


class DepartmentSource(models.TextChoices):
    DEFAULT = "default", _("类别默认部门")
    RULE = "rule", _("路由规则")
    MANUAL = "manual", _("手动指定")


class Issue(models.Model):
    """A recurring problem: one complaint category within one scope (a SKU by default)."""

    category = models.ForeignKey(
        "feedback.Category", verbose_name=_("类别"), on_delete=models.PROTECT, related_name="issues"
    )
    scope_type = models.CharField(_("范围类型"), max_length=20, choices=ScopeType.choices)
    # The SKU, the product category, or "name:value" for custom scopes; "" for a whole-category issue.
    scope_key = models.CharField(_("范围"), max_length=120, blank=True)
    product = models.ForeignKey(
        "feedback.Product", verbose_name=_("商品"), null=True, blank=True, on_delete=models.SET_NULL, related_name="issues"
    )
    product_category = models.CharField(_("商品品类"), max_length=40, blank=True)
    title = models.CharField(_("标题"), max_length=200, blank=True)

    department = models.ForeignKey(
        "issues.Department", verbose_name=_("负责部门"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="issues",
    )
    department_source = models.CharField(
        _("部门来源"), max_length=10, choices=DepartmentSource.choices, default=DepartmentSource.DEFAULT
    )
    routing_rule = models.ForeignKey(
        "issues.RoutingRule", verbose_name=_("路由规则"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="issues",
    )
    routed_at = models.DateTimeField(_("路由时间"), null=True, blank=True)

    status = models.CharField(_("状态"), max_length=16, choices=IssueStatus.choices, default=IssueStatus.NEW)
    priority = models.CharField(_("优先级"), max_length=2, choices=Priority.choices, default=Priority.P3)
    # Set when a person chose the priority: the computed priority then no longer overrides it.
    priority_manual = models.BooleanField(_("手动优先级"), default=False)
    # Why the computed priority is what it is: [[signal, value], ...] (see Issue.priority_explanation).
    priority_signals = models.JSONField(_("优先级依据"), default=list, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("处理人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="assigned_issues",
    )

    # Counts. ticket_count and the daily series move with every attach; the windows
    # are also bumped on attach and recomputed exactly by a periodic task.
    ticket_count = models.PositiveIntegerField(_("工单总数"), default=0)
    count_24h = models.PositiveIntegerField(_("24 小时"), default=0)
    count_7d = models.PositiveIntegerField(_("7 天"), default=0)
    count_30d = models.PositiveIntegerField(_("30 天"), default=0)
    count_prev_7d = models.PositiveIntegerField(_("前 7 天"), default=0)
    # count_7d - count_prev_7d, stored so queues can sort on it with an index.
    growth_7d = models.IntegerField(_("7 天增长"), default=0)
    first_seen_at = models.DateTimeField(_("首次出现"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("最近出现"), null=True, blank=True)
    counts_refreshed_at = models.DateTimeField(null=True, blank=True)

    is_spiking = models.BooleanField(_("激增"), default=False)
    spiking_since = models.DateTimeField(_("激增开始"), null=True, blank=True)
    # The spiking day's count over the trailing 7-day mean, for the priority's explanation.
    spike_ratio = models.FloatField(_("激增倍数"), null=True, blank=True)

    keywords = models.JSONField(_("关键词"), default=list, blank=True)
    representative_ticket_ids = models.JSONField(_("代表工单"), default=list, blank=True)
    keywords_refreshed_at = models.DateTimeField(null=True, blank=True)

    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    action_taken = models.TextField(_("处理措施"), blank=True)
    action_date = models.DateField(_("措施日期"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("解决人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    # Tickets in the 7 days before resolution: the "former rate" a regression is measured against.
    rate_before_resolution = models.PositiveIntegerField(null=True, blank=True)
    regression_count = models.PositiveSmallIntegerField(_("复发次数"), default=0)
    regressed_at = models.DateTimeField(_("复发时间"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("合并到"), null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )

    # When the SLA clock started: the moment the issue reached ISSUE_HIGH_FREQUENCY_MIN_TICKETS.
    sla_started_at = models.DateTimeField(_("SLA 开始"), null=True, blank=True)
    acknowledge_due_at = models.DateTimeField(_("确认时限"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("解决时限"), null=True, blank=True)
    is_overdue = models.BooleanField(_("已超时"), default=False)
    overdue_since = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-count_7d", "-id"]
        verbose_name = _("问题")
        verbose_name_plural = _("问题库")
        constraints = [
            models.UniqueConstraint(fields=["category", "scope_type", "scope_key"], name="issue_unique_scope"),
            models.CheckConstraint(condition=~Q(merged_into=models.F("id")), name="issue_not_merged_into_itself"),
        ]
        indexes = [
            models.Index(fields=["department", "status"], name="issue_department_status"),
            models.Index(fields=["status", "-count_7d"], name="issue_status_volume"),
            models.Index(fields=["category", "status"], name="issue_category_status"),
            models.Index(fields=["is_spiking"], name="issue_spiking", condition=Q(is_spiking=True)),
            models.Index(fields=["-count_30d"], name="issue_volume_30d"),
            # The library overview's default order, so a page is an index scan with LIMIT.
            models.Index(fields=["-count_7d", "-ticket_count", "-id"], name="issue_library_order"),
            # A department queue's order over open issues only (see selectors.department_queue).
            models.Index(
                fields=["department", "-is_spiking", "-is_overdue", "priority", "-count_7d", "-growth_7d", "-id"],
                name="issue_queue_order",
                condition=Q(status__in=["new", "regressed", "acknowledged", "in_progress"]),
            ),
            models.Index(fields=["first_seen_at"], name="issue_first_seen"),
            models.Index(fields=["resolved_at"], name="issue_resolved_at"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title or self.scope_key}"

    def display_title(self, language: str = "zh-hans") -> str:
        """The title in ``language``: a generated "{scope} · {category}" title names the category in it.

        Titles are stored as grouping wrote them (issues.services.grouping._issue_title, in Chinese);
        the scope part is the user's data (a product name, a product category) and stays as it is.
        A title someone edited by hand is shown as written.
        """
        from django.utils import translation

        title = self.title or self.scope_key
        if not language.startswith("en") or not self.title or self.category_id is None:
            return title
        suffix = f" · {self.category.name_zh}"
        if not title.endswith(suffix):
            return title
        scope = title[: -len(suffix)]
        sku = f"（{self.scope_key}）"
        if self.scope_key and scope.endswith(sku):  # "纯棉T恤（CL-2001）": the name is data, the brackets are not
            scope = f"{scope[: -len(sku)]} ({self.scope_key})"
        if scope == ALL_PRODUCTS_ZH:
            with translation.override(language):
                scope = str(_("全部商品"))
        return f"{scope} · {self.category.display_name(language)}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def growth_rate(self) -> float | None:
        """Week-over-week growth as a fraction (0.5 = +50%); None without a previous week."""
        if not self.count_prev_7d:
            return None
        return (self.count_7d - self.count_prev_7d) / self.count_prev_7d

    @property
    def priority_explanation(self) -> str:
        """The stored priority signals in the reader's language, e.g. "激增 ×12，24 小时 5 张"."""
        from django.utils.translation import gettext

        parts = []
        for signal, value in self.priority_signals or []:
            template = PRIORITY_SIGNAL_TEXT.get(signal)
            if template is not None:
                parts.append(str(template) % {"n": value})
        return gettext("，").join(parts)


# How each stored priority signal reads (issues.services.priority writes them); translated at display.
PRIORITY_SIGNAL_TEXT: dict[str, str] = {
    "spike": _("激增 ×%(n)s"),
    "count_24h": _("24 小时 %(n)s 张"),
    "count_7d": _("7 天 %(n)s 张"),
    "growth": _("周增长 +%(n)s%%"),
    "new": _("新出现，7 天 %(n)s 张"),
    "orders": _("%(n)s 个订单"),
    "age": _("持续 %(n)s 天"),
    "overdue": _("已超时"),
    "dormant": _("%(n)s 天无新工单"),
    "watching": _("仅 %(n)s 张工单，观察中"),
    "quiet": _("近 7 天 %(n)s 张"),
    "manual": _("手动设定"),
}


class IssueDaily(models.Model):
    """Tickets of one issue received on one local calendar day."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="daily")
    day = models.DateField()
    count = models.IntegerField(default=0)

    class Meta:
        ordering = ["issue_id", "day"]  # by the column: ordering by "issue" would join issues
        constraints = [models.UniqueConstraint(fields=["issue", "day"], name="issue_daily_unique_day")]
        indexes = [models.Index(fields=["day", "count"], name="issue_daily_day_count")]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.day}: {self.count}"


class ActivityVerb(models.TextChoices):
    CREATED = "created", _("创建")
    STATUS = "status", _("状态变更")
    ASSIGNED = "assigned", _("指派")
    PRIORITY = "priority", _("优先级变更")
    ROUTED = "routed", _("路由")
    MERGED = "merged", _("合并")
    REGRESSED = "regressed", _("复发")
    SPIKING = "spiking", _("激增")
    SPIKE_ENDED = "spike_ended", _("激增结束")
    OVERDUE = "overdue", _("超时")
    COMMENT = "comment", _("备注")


class IssueActivity(models.Model):
    """One entry of an issue's activity log: who did what, when. Never edited."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="activities")
    # Null for changes made by the system (routing, spikes, regressions).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=16, choices=ActivityVerb.choices)
    from_value = models.CharField(max_length=120, blank=True)
    to_value = models.CharField(max_length=120, blank=True)
    note = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["issue", "-created_at"], name="issue_activity_timeline")]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.verb} {self.from_value}->{self.to_value}"
