"""Orders, returns, daily metrics and the measured impact of each fix."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from feedback.models import ImportJobBase


def rate_or_none(events: int | None, exposure: int | None, per: int = 1) -> float | None:
    """events / exposure x per, or None when there is no exposure (never divides by zero)."""
    if not exposure or events is None:
        return None
    return events * per / exposure


class DailySales(models.Model):
    """Orders and returns of one SKU on one calendar day, as the shop's back office reports them.

    Returns are counted on the day they come back, not on the order's day, so a
    day may have more returns than orders (returns of earlier orders).
    """

    day = models.DateField(_("日期"))
    product = models.ForeignKey(
        "feedback.Product", verbose_name=_("商品"), on_delete=models.CASCADE, related_name="daily_sales"
    )
    orders = models.PositiveIntegerField(_("订单数"), default=0)
    returns = models.PositiveIntegerField(_("退货数"), default=0)
    # The return-reason cell as given (kept for audit; the counts live in ReturnReasonDaily).
    return_reason = models.TextField(_("退货原因"), blank=True)
    source = models.CharField(_("来源"), max_length=60, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-day", "product_id"]
        verbose_name = _("每日销量")
        verbose_name_plural = _("每日销量")
        constraints = [models.UniqueConstraint(fields=["product", "day"], name="daily_sales_unique_product_day")]
        indexes = [models.Index(fields=["day"], name="daily_sales_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.product_id}: {self.orders}/{self.returns}"

    @property
    def return_rate(self) -> float | None:
        return rate_or_none(self.returns, self.orders)


class ReturnReasonDaily(models.Model):
    """Returns of one SKU on one day attributed to one complaint category by their reason text.

    ``category_code`` is "" for reasons no keyword or model recognised. Rows for
    a (product, day) are replaced together with its DailySales row.
    """

    day = models.DateField()
    product = models.ForeignKey("feedback.Product", on_delete=models.CASCADE, related_name="+")
    category_code = models.CharField(max_length=40, blank=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "product_id", "category_code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "day", "category_code"], name="return_reason_unique_day")
        ]
        indexes = [models.Index(fields=["day", "category_code"], name="return_reason_day_category")]


class MetricScope(models.TextChoices):
    ALL = "all", _("全公司")
    SKU = "sku", _("单品 SKU")
    PRODUCT_CATEGORY = "product_category", _("商品品类")
    DEPARTMENT = "department", _("部门")


class DailyMetric(models.Model):
    """Materialised daily totals per scope, recomputed set-based by ``metrics_recompute``.

    scope_key: "" for ALL, the SKU, the product category, or the department code.
    For a department, orders are the whole shop's, returns those whose reason
    maps to one of its categories, tickets those of its issues. An issue's
    metrics are read from its scope's rows (``issues.impact.scopes``).
    """

    # The natural key is the primary key: one index serves every read (scope, key, day range)
    # and is the only one to maintain while millions of rows are rewritten.
    pk = models.CompositePrimaryKey("scope_type", "scope_key", "day")
    scope_type = models.CharField(max_length=20, choices=MetricScope.choices)
    scope_key = models.CharField(max_length=120, blank=True)
    day = models.DateField()
    orders = models.PositiveIntegerField(default=0)
    returns = models.PositiveIntegerField(default=0)
    tickets = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["scope_type", "scope_key", "day"]

    def __str__(self) -> str:
        return f"{self.scope_type}:{self.scope_key} {self.day}"

    @property
    def return_rate(self) -> float | None:
        return rate_or_none(self.returns, self.orders)

    @property
    def complaint_rate(self) -> float | None:
        """Tickets per 1,000 orders."""
        return rate_or_none(self.tickets, self.orders, per=1000)


class ImpactStatus(models.TextChoices):
    MEASURING = "measuring", _("测量中")
    INCOMPLETE = "incomplete", _("数据不完整")
    COMPLETED = "completed", _("已完成")


class Outcome(models.TextChoices):
    IMPROVED = "improved", _("显著改善")
    WORSENED = "worsened", _("显著变差")
    NO_EFFECT = "no_effect", _("无显著变化")
    MIXED = "mixed", _("有升有降")
    INSUFFICIENT = "insufficient", _("数据不足")
    PENDING = "pending", _("待定")


class IssueImpact(models.Model):
    """The before/after measurement of one resolution (issue + action date) of an issue."""

    issue = models.ForeignKey("issues.Issue", verbose_name=_("问题"), on_delete=models.CASCADE, related_name="impacts")
    action = models.TextField(_("措施"), blank=True)
    action_date = models.DateField(_("措施日期"))
    window_days = models.PositiveSmallIntegerField(_("窗口天数"))
    # Set by hand (or the API) to measure this issue with another window; kept across re-measurements.
    window_days_override = models.PositiveSmallIntegerField(_("自定义窗口天数"), null=True, blank=True)
    # The scope whose orders and returns were measured, e.g. "sku:CL-2001" or "all".
    scope_label = models.CharField(_("范围"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=ImpactStatus.choices, default=ImpactStatus.MEASURING)
    before_start = models.DateField()
    before_end = models.DateField()
    after_start = models.DateField()
    after_end = models.DateField()

    orders_before = models.PositiveIntegerField(null=True, blank=True)
    orders_after = models.PositiveIntegerField(null=True, blank=True)
    returns_before = models.PositiveIntegerField(null=True, blank=True)
    returns_after = models.PositiveIntegerField(null=True, blank=True)
    tickets_before = models.PositiveIntegerField(null=True, blank=True)
    tickets_after = models.PositiveIntegerField(null=True, blank=True)

    complaint_rate_before = models.FloatField(null=True, blank=True)  # tickets per 1,000 orders
    complaint_rate_after = models.FloatField(null=True, blank=True)
    complaint_rate_change = models.FloatField(null=True, blank=True)  # relative: -0.4 = down 40 %
    complaint_rate_p_value = models.FloatField(null=True, blank=True)
    complaint_outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    return_rate_before = models.FloatField(null=True, blank=True)  # share of orders, 0.091 = 9.1 %
    return_rate_after = models.FloatField(null=True, blank=True)
    return_rate_change = models.FloatField(null=True, blank=True)
    return_rate_p_value = models.FloatField(null=True, blank=True)
    return_outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    outcome = models.CharField(_("结论"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    # The relative change that ranks fixes: the best significant change, 0 for no effect, None if unknown.
    effect = models.FloatField(null=True, blank=True)
    verdict_zh = models.TextField(_("结论（中文）"), blank=True)
    verdict_en = models.TextField(_("结论（英文）"), blank=True)

    # How the change was judged (``estimation.METHOD_*``) and against what (``measurement.Controls.as_dict``).
    method = models.CharField(_("方法"), max_length=80, blank=True)
    controls = models.JSONField(_("对照"), default=dict, blank=True)
    # 95 % interval of the relative change (-0.12 = down 12 %), net of the controls.
    complaint_rate_ci_low = models.FloatField(null=True, blank=True)
    complaint_rate_ci_high = models.FloatField(null=True, blank=True)
    return_rate_ci_low = models.FloatField(null=True, blank=True)
    return_rate_ci_high = models.FloatField(null=True, blank=True)
    # Per metric: minimal detectable effect, the old pooled test's change and p-value, the controls'
    # own change; festivals straddled; the one-sentence explanation when the two methods disagree.
    details = models.JSONField(default=dict, blank=True)

    regressed = models.BooleanField(_("已回升"), default=False)
    regressed_at = models.DateTimeField(null=True, blank=True)
    regression_note = models.TextField(blank=True)

    measured_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-action_date", "-id"]
        verbose_name = _("措施效果")
        verbose_name_plural = _("措施效果")
        constraints = [
            models.UniqueConstraint(fields=["issue", "action_date"], name="issue_impact_unique_resolution")
        ]
        indexes = [
            models.Index(fields=["status", "after_end"], name="issue_impact_status_end"),
            models.Index(fields=["outcome", "effect"], name="issue_impact_outcome_effect"),
        ]

    def __str__(self) -> str:
        return f"#{self.issue_id} {self.action_date} {self.status}"

    def verdict(self, language: str = "zh-hans") -> str:
        return self.verdict_en if language.startswith("en") else self.verdict_zh


class ReturnSpike(models.Model):
    """A SKU whose recent return rate jumped above its own baseline, and the issue it raised or flagged."""

    product = models.ForeignKey("feedback.Product", on_delete=models.CASCADE, related_name="return_spikes")
    detected_on = models.DateField(_("发现日期"))
    window_start = models.DateField()
    window_end = models.DateField()
    orders = models.PositiveIntegerField()
    returns = models.PositiveIntegerField()
    baseline_orders = models.PositiveIntegerField()
    baseline_returns = models.PositiveIntegerField()
    return_rate = models.FloatField()
    baseline_rate = models.FloatField()
    category_code = models.CharField(max_length=40)
    issue = models.ForeignKey("issues.Issue", null=True, blank=True, on_delete=models.SET_NULL, related_name="return_spikes")
    issue_created = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-detected_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "window_end"], name="return_spike_unique_window")
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.window_end}: {self.return_rate:.3f} vs {self.baseline_rate:.3f}"

    @property
    def ratio(self) -> float | None:
        return self.return_rate / self.baseline_rate if self.baseline_rate else None


class SalesImportJob(ImportJobBase):
    """An uploaded orders/returns file; small ones import during the upload, large ones in Celery."""

    file = models.FileField(upload_to="sales-imports/%Y/%m/")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)

    class Meta(ImportJobBase.Meta):
        pass


class ImpactCalibration(models.Model):
    """One run of ``impact_backtest``: how often the method calls placebo fixes on this shop's history
    significant, and how often it finds injected effects. The dashboard shows the latest."""

    created_at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=80)
    window_days = models.PositiveSmallIntegerField()
    runs = models.PositiveIntegerField()  # placebo fixes judged
    false_positives = models.PositiveIntegerField()
    false_positive_rate = models.FloatField(null=True, blank=True)
    false_positive_ci_low = models.FloatField(null=True, blank=True)
    false_positive_ci_high = models.FloatField(null=True, blank=True)
    # {"-0.1": {"trials": n, "detected": k, "rate": r, "ci": [low, high]}, ...}
    power = models.JSONField(default=dict)
    data_from = models.DateField(null=True, blank=True)
    data_until = models.DateField(null=True, blank=True)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d} {self.method}: {self.false_positives}/{self.runs}"
