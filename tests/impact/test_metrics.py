"""Daily metrics: set-based recompute per scope, and rates that never divide by zero."""
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from feedback.models import Ticket

from issues.impact.models import DailyMetric, DailySales, MetricScope, ReturnReasonDaily
from issues.impact.scopes import issue_scopes, issue_totals, scope_label
from issues.impact.services import metrics_recompute
from issues.models import IssueStatus

from .helpers import issue_for, noon, product, sales, tickets

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 2)


def metric(scope: str, key: str, day: date = DAY) -> DailyMetric:
    return DailyMetric.objects.get(scope_type=scope, scope_key=key, day=day)


def test_recompute_builds_every_scope():
    shirt, jeans, orange = product("CL-2001", "衣服"), product("CL-2003", "衣服"), product("FR-1001", "水果")
    sales(shirt, DAY, 1, orders=640, returns=77)
    sales(jeans, DAY, 1, orders=260, returns=36)
    sales(orange, DAY, 1, orders=500, returns=15)
    ReturnReasonDaily.objects.create(day=DAY, product=shirt, category_code="description_mismatch", count=50)
    ReturnReasonDaily.objects.create(day=DAY, product=orange, category_code="damaged", count=10)
    size_issue = issue_for(shirt, "description_mismatch")
    delay_issue = issue_for(orange, "logistics_delay")
    tickets(size_issue, DAY, 3)
    tickets(delay_issue, DAY, 2)
    tickets(delay_issue, DAY + timedelta(days=1), 1)

    result = metrics_recompute()

    assert result.start == DAY and result.end == DAY + timedelta(days=1)
    shirt_row = metric(MetricScope.SKU, "CL-2001")
    assert (shirt_row.orders, shirt_row.returns, shirt_row.tickets) == (640, 77, 3)
    assert shirt_row.return_rate == pytest.approx(77 / 640)
    assert shirt_row.complaint_rate == pytest.approx(3 * 1000 / 640)
    clothes = metric(MetricScope.PRODUCT_CATEGORY, "衣服")
    assert (clothes.orders, clothes.returns, clothes.tickets) == (900, 113, 3)
    everything = metric(MetricScope.ALL, "")
    assert (everything.orders, everything.returns, everything.tickets) == (1400, 128, 5)
    assert issue_totals(delay_issue, start=DAY, end=DAY) == {"orders": 500, "returns": 15, "tickets": 2}
    assert issue_totals(delay_issue, start=DAY, end=DAY + timedelta(days=1))["tickets"] == 3
    logistics = metric(MetricScope.DEPARTMENT, "logistics")
    assert (logistics.orders, logistics.returns, logistics.tickets) == (1400, 0, 2)
    merchandising = metric(MetricScope.DEPARTMENT, "merchandising")
    assert (merchandising.returns, merchandising.tickets) == (50, 3)
    warehouse = metric(MetricScope.DEPARTMENT, "warehouse")
    assert warehouse.returns == 10
    # A day with tickets and no orders: the row exists, its rates are None, nothing divides by zero.
    no_orders = metric(MetricScope.SKU, "FR-1001", DAY + timedelta(days=1))
    assert (no_orders.orders, no_orders.tickets) == (0, 1)
    assert no_orders.return_rate is None and no_orders.complaint_rate is None


def test_merged_issue_covers_the_scopes_merged_into_it():
    first, second = product("FR-1001", "水果"), product("FR-1002", "水果")
    sales(first, DAY, 1, orders=500, returns=10)
    sales(second, DAY, 1, orders=300, returns=9)
    root, merged = issue_for(first, "logistics_delay"), issue_for(second, "logistics_delay")
    merged.status, merged.merged_into = IssueStatus.MERGED, root
    merged.save()
    tickets(root, DAY, 4)

    metrics_recompute()

    assert issue_totals(root, start=DAY, end=DAY) == {"orders": 800, "returns": 19, "tickets": 4}
    assert scope_label(issue_scopes([root])[root.pk]) == "sku:FR-1001+sku:FR-1002"


def test_partial_recompute_touches_only_the_given_products_and_days():
    shirt, orange = product("CL-2001", "衣服"), product("FR-1001", "水果")
    sales(shirt, DAY, 3, orders=100, returns=10)
    sales(orange, DAY, 3, orders=200, returns=4)
    metrics_recompute()
    DailySales.objects.filter(product=shirt, day=DAY + timedelta(days=1)).update(orders=150)
    DailySales.objects.filter(product=orange, day=DAY + timedelta(days=1)).update(orders=999)  # not refreshed below

    metrics_recompute(start=DAY + timedelta(days=1), end=DAY + timedelta(days=1), product_ids=[shirt.pk])

    assert metric(MetricScope.SKU, "CL-2001", DAY + timedelta(days=1)).orders == 150
    assert metric(MetricScope.SKU, "FR-1001", DAY + timedelta(days=1)).orders == 200
    assert metric(MetricScope.SKU, "CL-2001", DAY).orders == 100
    assert metric(MetricScope.ALL, "", DAY + timedelta(days=1)).orders == 150 + 999
    assert DailyMetric.objects.filter(scope_type=MetricScope.SKU).count() == 6


def test_ticket_day_is_the_local_calendar_day():
    shirt = product()
    sales(shirt, DAY, 1, orders=10, returns=0)
    issue = issue_for(shirt)
    # 23:30 in Shanghai is 15:30 UTC of the same day; 00:30 local is the previous UTC day.
    late = timezone.make_aware(datetime.combine(DAY, time(23, 30)))
    early = timezone.make_aware(datetime.combine(DAY, time(0, 30)))
    Ticket.objects.create(text="晚上", received_at=late, product=shirt, issue=issue)
    Ticket.objects.create(text="凌晨", received_at=early, product=shirt, issue=issue)
    metrics_recompute(start=DAY - timedelta(days=1), end=DAY + timedelta(days=1))
    assert metric(MetricScope.SKU, "CL-2001").tickets == 2
    assert noon(DAY).date() == DAY


def test_recompute_with_no_data_does_nothing():
    result = metrics_recompute()
    assert result.total_rows == 0
