"""Return-rate spikes: a SKU whose recent return rate jumps above its own baseline.

Rule (tunable in settings, see ``conf``): over the last IMPACT_SPIKE_WINDOW_DAYS
(7) days of order data, the SKU's return rate is at least IMPACT_SPIKE_RATIO
(2x) its rate over the IMPACT_SPIKE_BASELINE_DAYS (28) days before, with at
least IMPACT_SPIKE_MIN_RETURNS returns in the window and
IMPACT_SPIKE_MIN_BASELINE_ORDERS orders in the baseline. A SKU with no
baseline returns at all spikes on the minimum returns alone.

A spike raises the issue of (category, SKU) through the issue library, creating
it if needed, or flags the existing one (an activity entry and a notification
to its department). The category is the one most of the window's return
reasons map to, else IMPACT_SPIKE_FALLBACK_CATEGORY (after_sales: the
department that handles returns is best placed to find the cause). One spike
is recorded per SKU per episode: a SKU flagged within the last window is not
flagged again until the window has moved past it.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from feedback.models import Category, Product
from issues.models import ActivityVerb, IssueActivity, IssueStatus, NotificationKind, ScopeType

from ..conf import impact_setting
from ..models import DailySales, ReturnReasonDaily, ReturnSpike
from .impact import sales_horizon

logger = logging.getLogger(__name__)


def spike_category(*, product_id: int, start: date, end: date) -> str:
    """The category most of a SKU's returns in [start, end] give as reason, else the fallback."""
    row = (
        ReturnReasonDaily.objects.filter(product_id=product_id, day__gte=start, day__lte=end)
        .exclude(category_code="")
        .values("category_code")
        .annotate(n=Sum("count"))
        .order_by("-n", "category_code")
        .first()
    )
    code = row["category_code"] if row else impact_setting("IMPACT_SPIKE_FALLBACK_CATEGORY")
    if not Category.objects.filter(code=code, is_active=True).exists():
        code = impact_setting("IMPACT_SPIKE_FALLBACK_CATEGORY")
    return code


def return_spikes_detect(*, end: date | None = None, product_ids: Iterable[int] | None = None) -> list[ReturnSpike]:
    """Find SKUs whose return rate spikes in the window ending ``end`` (default: the last day of data).

    Records a ReturnSpike per new spike and raises or flags its issue. Safe to
    repeat: a SKU already flagged in this episode is skipped.
    """
    if end is None:
        _, end = sales_horizon()
        if end is None:
            return []
    window = impact_setting("IMPACT_SPIKE_WINDOW_DAYS")
    start = end - timedelta(days=window - 1)
    baseline_start = start - timedelta(days=impact_setting("IMPACT_SPIKE_BASELINE_DAYS"))
    in_window, in_baseline = Q(day__gte=start), Q(day__lt=start)
    rows = DailySales.objects.filter(day__gte=baseline_start, day__lte=end)
    if product_ids is not None:
        rows = rows.filter(product_id__in=list(product_ids))
    totals = (
        rows.order_by()
        .values("product_id")
        .annotate(
            window_orders=Sum("orders", filter=in_window), window_returns=Sum("returns", filter=in_window),
            baseline_orders=Sum("orders", filter=in_baseline), baseline_returns=Sum("returns", filter=in_baseline),
        )
        .filter(window_returns__gte=impact_setting("IMPACT_SPIKE_MIN_RETURNS"),
                baseline_orders__gte=impact_setting("IMPACT_SPIKE_MIN_BASELINE_ORDERS"))
    )
    ratio = impact_setting("IMPACT_SPIKE_RATIO")
    spikes: list[ReturnSpike] = []
    for row in totals:
        if not row["window_orders"]:
            continue
        rate = row["window_returns"] / row["window_orders"]
        baseline_rate = (row["baseline_returns"] or 0) / row["baseline_orders"]
        if baseline_rate > 0 and rate < ratio * baseline_rate:
            continue
        if ReturnSpike.objects.filter(product_id=row["product_id"], window_end__gte=start).exists():
            continue  # already flagged in this episode
        spike = _spike_record(row, start=start, end=end, rate=rate, baseline_rate=baseline_rate)
        if spike is not None:
            spikes.append(spike)
    return spikes


def _spike_record(row: dict, *, start: date, end: date, rate: float, baseline_rate: float) -> ReturnSpike | None:
    product = Product.objects.get(pk=row["product_id"])
    code = spike_category(product_id=product.pk, start=start, end=end)
    try:
        with transaction.atomic():
            spike = ReturnSpike.objects.create(
                product=product, detected_on=timezone.localdate(), window_start=start, window_end=end,
                orders=row["window_orders"], returns=row["window_returns"],
                baseline_orders=row["baseline_orders"], baseline_returns=row["baseline_returns"] or 0,
                return_rate=rate, baseline_rate=baseline_rate, category_code=code,
            )
            issue, created = _issue_for(product, code)
            spike.issue, spike.issue_created = issue, created
            spike.save(update_fields=["issue", "issue_created"])
            _flag(spike)
    except IntegrityError:
        return None  # recorded by a concurrent run
    logger.info("return spike on %s: %.3f vs %.3f, issue #%s", product.sku, rate, baseline_rate, spike.issue_id)
    if created:
        _route(spike.issue_id)
    return spike


def _issue_for(product: Product, code: str):
    """The live issue of (category, SKU), created with the library's defaults if it does not exist.

    The issue library has no public get-or-create for a key without a ticket
    yet; this mirrors what grouping does for a new key (default department and
    priority, SLA deadlines, a "created" activity). Replace it with that
    service once it exists.
    """
    from issues.conf import issue_setting
    from issues.models import DepartmentSource, Issue
    from issues.services.sla import sla_due_times

    category = Category.objects.get(code=code)
    lookup = {"category": category, "scope_type": ScopeType.SKU, "scope_key": product.sku}
    issue = Issue.objects.filter(**lookup).first()
    created = False
    if issue is None:
        priority = issue_setting("ISSUE_DEFAULT_PRIORITY")
        acknowledge_due, resolve_due = sla_due_times(priority=priority, start=timezone.now())
        try:
            with transaction.atomic():
                issue = Issue.objects.create(
                    **lookup, product=product, product_category=product.product_category,
                    title=f"{product.name}（{product.sku}） · {category.name_zh}"[:200],
                    department_id=category.default_department_id, department_source=DepartmentSource.DEFAULT,
                    priority=priority, acknowledge_due_at=acknowledge_due, resolve_due_at=resolve_due,
                )
                IssueActivity.objects.create(issue=issue, verb=ActivityVerb.CREATED, to_value=issue.status,
                                             note="退货率激增", payload={"return_spike": True})
                created = True
        except IntegrityError:  # created by a ticket a moment ago
            issue = Issue.objects.get(**lookup)
    seen = {issue.pk}
    while issue.status == IssueStatus.MERGED and issue.merged_into_id and issue.merged_into_id not in seen:
        seen.add(issue.merged_into_id)
        issue = Issue.objects.get(pk=issue.merged_into_id)
    return issue, created


def _flag(spike: ReturnSpike) -> None:
    issue = spike.issue
    note = (
        f"退货率激增：{spike.window_start} 至 {spike.window_end} 退货率 {spike.return_rate * 100:.1f}%"
        f"（{spike.returns}/{spike.orders}），此前 {impact_setting('IMPACT_SPIKE_BASELINE_DAYS')} 天为 "
        f"{spike.baseline_rate * 100:.1f}%"
    )
    IssueActivity.objects.create(
        issue=issue, actor=None, verb=ActivityVerb.SPIKING, to_value="return_rate", note=note,
        payload={"return_spike": spike.pk, "return_rate": spike.return_rate, "baseline_rate": spike.baseline_rate,
                 "window_start": str(spike.window_start), "window_end": str(spike.window_end),
                 "returns": spike.returns, "orders": spike.orders,
                 "baseline_days": impact_setting("IMPACT_SPIKE_BASELINE_DAYS")},
    )
    if issue.department_id:
        from issues.services.notifications import TranslatableText, notification_create

        notification_create(
            kind=NotificationKind.SPIKE,
            title=TranslatableText("退货率激增：%(sku)s %(name)s", sku=spike.product.sku, name=spike.product.name),
            body=TranslatableText(
                "问题 #%(number)s：%(start)s 至 %(end)s 退货率 %(rate).1f%%（%(returns)s/%(orders)s），"
                "此前 %(days)s 天为 %(baseline).1f%%。",
                number=issue.pk, start=str(spike.window_start), end=str(spike.window_end),
                rate=spike.return_rate * 100, returns=spike.returns, orders=spike.orders,
                days=impact_setting("IMPACT_SPIKE_BASELINE_DAYS"), baseline=spike.baseline_rate * 100),
            department=issue.department,
            issue=issue,
            dedupe_key=f"return-spike:{spike.pk}",
            payload={"return_spike": spike.pk},
        )


def _route(issue_id: int) -> None:
    try:
        from issues.services.routing import issue_route

        issue_route(issue_id=issue_id)
    except Exception:  # routing failure keeps the category's default department
        logger.exception("routing of return-spike issue %s failed", issue_id)
