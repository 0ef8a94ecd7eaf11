"""Computed priority, its explanation, the 高频 threshold that starts the SLA, watching and dormant issues."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from issues.models import Issue, IssueStatus
from issues.selectors import department_queue, department_queue_sizes
from issues.services import PrioritySignals, issue_priority_set, issues_spikes_detect, issues_prioritize, priority_compute
from tests.issues.conftest import department, make_ticket

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def signals(**overrides) -> PrioritySignals:
    base = {"ticket_count": 3, "count_24h": 0, "count_7d": 1, "count_prev_7d": 1, "days_since_first": 1,
            "days_since_last": 0}
    return PrioritySignals(**{**base, **overrides})


@pytest.mark.parametrize("overrides, priority, reasons", [
    # The 高频 threshold (default 3): 2 tickets wait as 观察中, 3 are ranked.
    ({"ticket_count": 2}, "P4", [["watching", 2]]),
    ({"ticket_count": 3}, "P4", [["quiet", 1]]),
    # Dormancy (default 30 days without a ticket): 29 days is still ranked, 30 is dormant.
    ({"days_since_last": 29, "count_7d": 0, "count_prev_7d": 0}, "P4", [["quiet", 0]]),
    ({"days_since_last": 30, "count_7d": 0, "count_prev_7d": 0}, "P4", [["dormant", 30]]),
    # Dormancy wins over everything else, a big old count included.
    ({"days_since_last": 45, "ticket_count": 500, "is_overdue": True}, "P4", [["dormant", 45]]),
    # 24 h volume: 4 is not enough, 5 is.
    ({"count_24h": 4}, "P4", [["quiet", 1]]),
    ({"count_24h": 5, "count_7d": 5, "count_prev_7d": 5}, "P3", [["count_24h", 5]]),
    # 7-day volume: 19 vs 20.
    ({"count_7d": 19, "count_prev_7d": 19}, "P4", [["quiet", 19]]),
    ({"count_7d": 20, "count_prev_7d": 20}, "P3", [["count_7d", 20]]),
    # Growth: +100% and at least 5 more tickets; +4 tickets is noise even at +400%.
    ({"count_7d": 10, "count_prev_7d": 5}, "P3", [["growth", 100]]),
    ({"count_7d": 9, "count_prev_7d": 5}, "P4", [["quiet", 9]]),
    ({"count_7d": 5, "count_prev_7d": 1}, "P4", [["quiet", 5]]),
    ({"count_7d": 5, "count_prev_7d": 0}, "P3", [["new", 5]]),
    # Distinct orders over 30 days: 9 vs 10.
    ({"orders_30d": 9}, "P4", [["quiet", 1]]),
    ({"orders_30d": 10}, "P3", [["orders", 10]]),
    # Age: still arriving after 14 days, not after 13; an old issue with no ticket this week is not "standing".
    ({"days_since_first": 13}, "P4", [["quiet", 1]]),
    ({"days_since_first": 14}, "P3", [["age", 14]]),
    ({"days_since_first": 20, "count_7d": 0, "count_prev_7d": 0}, "P4", [["quiet", 0]]),
    ({"is_overdue": True}, "P3", [["overdue", ""]]),
    # A spike alone is P2 at once; with 5 tickets in 24 h it is P1 (the issue's own example).
    ({"is_spiking": True, "spike_ratio": 12.2}, "P2", [["spike", "12"]]),
    ({"is_spiking": True, "spike_ratio": 3.46, "count_24h": 5, "count_7d": 6, "count_prev_7d": 6}, "P2",
     [["spike", "3.5"], ["count_24h", 5]]),
    ({"is_spiking": True, "spike_ratio": 12, "count_24h": 5, "count_7d": 8, "count_prev_7d": 1}, "P1",
     [["spike", "12"], ["count_24h", 5], ["growth", 700]]),
])
def test_priority_from_signals(overrides, priority, reasons):
    assert priority_compute(signals=signals(**overrides)) == (priority, reasons)


def test_thresholds_are_settings(settings):
    settings.ISSUE_HIGH_FREQUENCY_MIN_TICKETS = 5
    settings.ISSUE_DORMANT_DAYS = 7
    assert priority_compute(signals=signals(ticket_count=4))[1] == [["watching", 4]]
    assert priority_compute(signals=signals(ticket_count=5))[1] == [["quiet", 1]]
    assert priority_compute(signals=signals(days_since_last=7))[1] == [["dormant", 7]]


@pytest.mark.django_db
def test_the_sla_starts_at_the_third_ticket_and_singletons_wait_as_watching(shampoo):
    with time_machine.travel(NOW, tick=False):
        make_ticket(product=shampoo)
        make_ticket(product=shampoo)
        issue = Issue.objects.get()
        assert (issue.acknowledge_due_at, issue.resolve_due_at, issue.sla_started_at) == (None, None, None)
        assert list(department_queue(department=department("warehouse"))) == []
        assert [i.pk for i in department_queue(department=department("warehouse"), view="watching")] == [issue.pk]
    third = NOW + timedelta(hours=5)
    with time_machine.travel(third, tick=False):
        make_ticket(product=shampoo)
        issue.refresh_from_db()
        assert issue.sla_started_at == third
        assert issue.acknowledge_due_at > third
        assert [i.pk for i in department_queue(department=department("warehouse"))] == [issue.pk]
        assert department_queue_sizes(department=department("warehouse")) == {"queue": 1, "watching": 0, "dormant": 0}


@pytest.mark.django_db
def test_a_dormant_issue_leaves_the_queue_and_returns_with_a_ticket(shampoo):
    with time_machine.travel(NOW, tick=False):
        for _ in range(3):
            make_ticket(product=shampoo, days_ago=29.9)
        issue = Issue.objects.get()
        assert [i.pk for i in department_queue(department=department("warehouse"))] == [issue.pk]
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        issues_prioritize()
        issue.refresh_from_db()
        assert issue.priority_signals == [["dormant", 30]]
        assert list(department_queue(department=department("warehouse"))) == []
        assert [i.pk for i in department_queue(department=department("warehouse"), view="dormant")] == [issue.pk]
        make_ticket(product=shampoo)
        issue.refresh_from_db()
        assert issue.priority_signals != [["dormant", 30]]
        assert [i.pk for i in department_queue(department=department("warehouse"))] == [issue.pk]


@pytest.mark.django_db
def test_an_issue_someone_is_working_stays_in_the_queue_even_when_small(shampoo, warehouse_lead):
    from issues.services import issue_transition

    make_ticket(product=shampoo)
    issue = Issue.objects.get()
    assert list(department_queue(department=department("warehouse"))) == []
    issue_transition(issue=issue, to_status=IssueStatus.IN_PROGRESS, actor=warehouse_lead)
    assert [i.pk for i in department_queue(department=department("warehouse"))] == [issue.pk]


@pytest.mark.django_db
def test_a_spike_raises_priority_at_once_and_says_why(shampoo):
    with time_machine.travel(NOW, tick=False):
        make_ticket(product=shampoo, days_ago=3)
        for _ in range(6):
            make_ticket(product=shampoo)
        issue = Issue.objects.get()
        before = issue.priority
        started, _ = issues_spikes_detect()
        issue.refresh_from_db()
    assert started == [issue.pk]
    assert issue.spike_ratio == pytest.approx(6 / (1 / 7))
    assert (before, issue.priority) == ("P2", "P1")  # 6 today and new this week: P2; the spike makes it P1
    assert issue.priority_signals[0] == ["spike", "42"]
    with translation.override("zh-hans"):
        assert issue.priority_explanation.startswith("激增 ×42，24 小时 6 张")
    with translation.override("en"):
        assert issue.priority_explanation.startswith("spike ×42, 6 tickets in 24 h")


@pytest.mark.django_db
def test_a_priority_set_by_hand_is_kept(shampoo, warehouse_lead):
    for _ in range(3):
        make_ticket(product=shampoo)
    issue = issue_priority_set(issue=Issue.objects.get(), priority="P1", actor=warehouse_lead)
    make_ticket(product=shampoo)
    issue.refresh_from_db()
    assert issue.priority == "P1"
    assert issue.priority_signals[0] == ["manual", ""]


@pytest.mark.django_db
def test_a_lead_hands_a_manual_priority_back_to_the_computation_on_the_page_and_the_api(client, shampoo,
                                                                                         warehouse_lead):
    from rest_framework.test import APIClient

    for _ in range(3):
        make_ticket(product=shampoo)
    issue = issue_priority_set(issue=Issue.objects.get(), priority="P1", actor=warehouse_lead)
    assert (issue.priority, issue.priority_manual) == ("P1", True)
    client.force_login(warehouse_lead)
    assert client.get(reverse("issue-detail", args=[issue.pk])).context["priority_form"].initial["priority"] == "P1"

    response = client.post(reverse("issue-action", args=[issue.pk, "priority"]), {"priority": "auto"})

    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.priority_manual is False and issue.priority != "P1"  # 3 quiet tickets do not make a P1
    assert issue.priority_signals and issue.priority_signals[0][0] != "manual"
    entry = issue.activities.filter(verb="priority").latest("id")
    assert (entry.from_value, entry.to_value, entry.payload.get("automatic")) == ("P1", issue.priority, True)
    assert client.get(reverse("issue-detail", args=[issue.pk])).context["priority_form"].initial["priority"] == "auto"

    api = APIClient()
    api.force_authenticate(warehouse_lead)
    assert api.post(f"/api/issues/{issue.pk}/priority/", {"priority": "P2"}, format="json").json()["priority"] == "P2"
    back = api.post(f"/api/issues/{issue.pk}/priority/", {"priority": "auto"}, format="json")
    assert back.status_code == 200 and back.json()["priority"] == issue.priority
    assert api.post(f"/api/issues/{issue.pk}/priority/", {"priority": "P9"}, format="json").status_code == 400
