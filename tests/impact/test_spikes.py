"""Return-rate spikes raise (or flag) an issue before tickets pile up."""
from datetime import date, timedelta

import pytest

from issues.impact.models import ReturnReasonDaily, ReturnSpike
from issues.impact.services import return_spikes_detect
from issues.models import Issue, IssueActivity, Notification

from .helpers import issue_for, product, sales

pytestmark = pytest.mark.django_db
END = date(2026, 4, 30)


def history(prod, *, recent_returns: int, orders: int = 100, base_returns: int = 5):
    """28 baseline days at base_returns/orders, then 7 days at recent_returns/orders, ending END."""
    start = END - timedelta(days=34)
    sales(prod, start, 35, orders=orders,
          returns=lambda d: recent_returns if d > END - timedelta(days=7) else base_returns)


def test_spike_raises_an_issue_of_the_category_its_reasons_name():
    milk = product("MK-7001", "牛奶")
    history(milk, recent_returns=15)  # 15 % against 5 %
    for offset in range(7):
        ReturnReasonDaily.objects.create(day=END - timedelta(days=offset), product=milk, category_code="damaged", count=10)

    [spike] = return_spikes_detect(end=END)

    assert spike.return_rate == pytest.approx(0.15) and spike.baseline_rate == pytest.approx(0.05)
    assert spike.category_code == "damaged" and spike.issue_created
    issue = spike.issue
    assert (issue.category.code, issue.scope_type, issue.scope_key) == ("damaged", "sku", "MK-7001")
    assert IssueActivity.objects.filter(issue=issue, verb="spiking").exists()
    assert Notification.objects.filter(issue=issue, kind="spike").exists()
    assert return_spikes_detect(end=END) == []  # once per episode


def test_spike_without_reasons_flags_the_existing_after_sales_issue():
    shirt = product()
    existing = issue_for(shirt, "after_sales")
    history(shirt, recent_returns=12)
    [spike] = return_spikes_detect(end=END)
    assert spike.issue == existing and not spike.issue_created
    assert Issue.objects.count() == 1


@pytest.mark.parametrize(
    ("recent_returns", "orders", "spikes"),
    [(9, 100, 0), (10, 100, 1), (1, 10, 0)],  # below 2x; exactly 2x; 2x but fewer than 10 returns in the window
)
def test_spike_thresholds(recent_returns, orders, spikes):
    history(product(), recent_returns=recent_returns, orders=orders, base_returns=orders // 20)
    assert len(return_spikes_detect(end=END)) == spikes
    assert ReturnSpike.objects.count() == spikes
