"""The model page's thresholds: the measured trade-off on confirmed tickets, the admin's override, who may change it."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from feedback import classification
from feedback.classification import category_threshold, category_threshold_source
from feedback.models import Category, Ticket, TriageStatus
from feedback.selectors import model_threshold_report
from feedback.services import ThresholdError, category_threshold_set
from tests.factories import TicketFactory, UserFactory, category

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_clock():
    """Just after local midnight on the first of a month: the 90-day window and confirmed_at sit on day edges."""
    with time_machine.travel(datetime(2027, 3, 1, 0, 5, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


def confirmed(predicted: str, confidence: float, confirmed_as: str, *, days_ago: float = 1) -> Ticket:
    """A ticket the model predicted and an agent then confirmed (or corrected), ``days_ago`` days ago."""
    when = timezone.now() - timedelta(days=days_ago)
    return TicketFactory(
        predicted_category=category(predicted), prediction_confidence=confidence,
        confirmed_category=category(confirmed_as), category=category(confirmed_as), confirmed_at=when,
        triage_status=TriageStatus.CONFIRMED,
    )


@pytest.fixture
def thresholds(settings):
    settings.TRIAGE_CONFIDENCE_THRESHOLD = 0.55
    settings.TRIAGE_CATEGORY_THRESHOLDS = {"damaged": 0.8}


@pytest.fixture
def sample(thresholds):
    """Known answers. damaged (threshold 0.8): 0.9 right, 0.8 wrong, 0.6 right -> 2 of 3 applied, 1 of 2 right.
    logistics_delay (0.55): 0.55 right, 0.5 wrong -> 1 of 2 applied, 1 of 1 right."""
    confirmed("damaged", 0.9, "damaged")
    confirmed("damaged", 0.8, "counterfeit")
    confirmed("damaged", 0.6, "damaged")
    confirmed("logistics_delay", 0.55, "logistics_delay")
    confirmed("logistics_delay", 0.5, "price")
    # Left out: older than 90 days, not confirmed, confirmed without a prediction.
    confirmed("damaged", 0.99, "counterfeit", days_ago=91)
    TicketFactory(predicted_category=category("damaged"), prediction_confidence=0.99, triage_status=TriageStatus.CLASSIFIED)
    TicketFactory(confirmed_category=category("price"), confirmed_at=timezone.now(), triage_status=TriageStatus.CONFIRMED)


def rows_by_code(report):
    return {row.category.code: row for row in report.categories}


def test_share_and_precision_at_the_current_thresholds_on_recent_confirmed_tickets(sample):
    report = model_threshold_report()
    assert report.sample_size == 5
    assert (report.overall.applied, report.overall.correct) == (3, 2)
    rows = rows_by_code(report)
    damaged, delay = rows["damaged"], rows["logistics_delay"]
    assert (damaged.threshold, damaged.source) == (0.8, "environment")
    assert (damaged.recent.predicted, damaged.recent.applied, damaged.recent.correct) == (3, 2, 1)
    assert damaged.recent.share == pytest.approx(2 / 3) and damaged.recent.precision == 0.5
    assert (delay.threshold, delay.source) == (0.55, "default")
    assert (delay.recent.applied, delay.recent.correct) == (1, 1) and delay.recent.precision == 1.0
    assert rows["price"].recent.predicted == 0 and rows["price"].recent.share is None


@pytest.mark.parametrize(
    ("threshold", "applied", "correct"),
    [(0.40, 3, 2), (0.60, 3, 2), (0.65, 2, 1), (0.80, 2, 1), (0.85, 1, 1), (0.95, 0, 0)],
)
def test_the_tradeoff_table_counts_each_candidate_threshold(sample, threshold, applied, correct):
    tradeoff = {t: recent for t, recent, _ in rows_by_code(model_threshold_report())["damaged"].tradeoff}
    assert (tradeoff[threshold].applied, tradeoff[threshold].correct) == (applied, correct)


def test_the_sample_is_capped_to_the_newest_confirmations(thresholds):
    confirmed("damaged", 0.9, "damaged", days_ago=1)
    confirmed("damaged", 0.9, "counterfeit", days_ago=2)
    report = model_threshold_report(limit=1)
    assert report.sample_size == 1 and rows_by_code(report)["damaged"].recent.correct == 1


def test_the_held_out_curve_of_the_active_version_fills_its_column(sample):
    curve = {"grid": [0.4, 0.8], "per_category": {"damaged": {"predicted": 10, "points": [
        {"threshold": 0.4, "applied": 9, "correct": 8}, {"threshold": 0.8, "applied": 4, "correct": 4}]}}}
    report = model_threshold_report(heldout_curve=curve, heldout_version="v9")
    heldout = {t: held for t, _, held in rows_by_code(report)["damaged"].tradeoff}
    assert report.heldout_version == "v9"
    assert heldout[0.4].share == 0.9 and heldout[0.8].precision == 1.0 and heldout[0.5] is None
    assert model_threshold_report().heldout_version is None


@pytest.mark.parametrize(
    ("database", "environment", "expected", "source"),
    [
        (None, None, 0.55, "default"),
        (None, 0.8, 0.8, "environment"),
        (0.7, 0.8, 0.7, "database"),  # the admin's override wins over the environment
        (0.3, None, 0.3, "database"),
    ],
)
def test_threshold_precedence_database_then_environment_then_global(thresholds, settings, database, environment, expected, source):
    settings.TRIAGE_CATEGORY_THRESHOLDS = {} if environment is None else {"damaged": environment}
    if database is not None:
        category_threshold_set(category=category("damaged"), threshold=database, user=None)
    assert category_threshold("damaged") == expected
    assert category_threshold_source("damaged") == source


def test_a_saved_override_applies_at_once_here_and_within_the_ttl_elsewhere(thresholds, settings, monkeypatch):
    settings.TRIAGE_THRESHOLD_CACHE_SECONDS = 30
    clock = [1000.0]
    monkeypatch.setattr(classification.time, "monotonic", lambda: clock[0])
    assert category_threshold("price") == 0.55
    category_threshold_set(category=category("price"), threshold=0.9, user=None)
    assert category_threshold("price") == 0.9  # the saving process forgets its copy
    # Another process saves: this one keeps its copy until the TTL runs out.
    Category.objects.filter(code="price").update(confidence_threshold=0.6)
    clock[0] += 29.9
    assert category_threshold("price") == 0.9
    clock[0] += 0.1
    assert category_threshold("price") == 0.6


def test_the_override_is_read_once_per_ttl_not_once_per_ticket(thresholds, django_assert_num_queries):
    category_threshold("damaged")
    with django_assert_num_queries(0):
        for code in ("damaged", "price", "other") * 100:
            category_threshold(code)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5, float("nan"), float("inf")])
def test_the_service_refuses_thresholds_outside_zero_and_one(bad):
    with pytest.raises(ThresholdError):
        category_threshold_set(category=category("price"), threshold=bad, user=None)
    assert category("price").confidence_threshold is None


# The page.


def post_threshold(client, **data):
    return client.post(reverse("model-page"), {"action": "threshold", **data}, follow=True)


def test_an_admin_sets_and_clears_a_threshold_and_the_page_says_who_and_when(client, thresholds):
    admin = UserFactory(username="boss", role=Role.ADMIN)
    client.force_login(admin)
    response = post_threshold(client, category="damaged", threshold="0.72")
    html = response.content.decode()
    damaged = category("damaged")
    assert damaged.confidence_threshold == 0.72 and damaged.threshold_changed_by == admin
    assert damaged.threshold_changed_at is not None
    assert "0.72" in html and "管理员设置" in html and "boss 于" in html
    assert category_threshold("damaged") == 0.72

    post_threshold(client, category="damaged", clear="1")
    damaged.refresh_from_db()
    assert damaged.confidence_threshold is None and damaged.threshold_changed_by == admin
    assert category_threshold("damaged") == 0.8  # the environment's again


@pytest.mark.parametrize("value", ["0", "1", "-0.2", "1.01", "abc", "", "nan"])
def test_a_threshold_outside_zero_and_one_is_refused_with_the_category_named(client, thresholds, value):
    client.force_login(UserFactory(username="boss", role=Role.ADMIN))
    response = post_threshold(client, category="damaged", threshold=value)
    assert response.status_code == 200
    html = response.content.decode()
    assert "未保存类别「破损变质」的阈值" in html and "大于 0 且小于 1" in html
    assert category("damaged").confidence_threshold is None


def test_an_unknown_category_is_refused_cleanly(client, thresholds):
    client.force_login(UserFactory(username="boss", role=Role.ADMIN))
    response = post_threshold(client, category="no-such", threshold="0.7")
    assert response.status_code == 200 and "没有这个类别" in response.content.decode()


def test_the_english_page_names_the_refused_category_in_english(client, thresholds):
    client.force_login(UserFactory(username="boss", role=Role.ADMIN))
    response = client.post(reverse("model-page"), {"action": "threshold", "category": "damaged", "threshold": "2"},
                           follow=True, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "Damaged or spoiled" in html and "greater than 0 and less than 1" in html


def test_a_manager_reads_thresholds_but_cannot_change_them(client, sample):
    client.force_login(UserFactory(username="m", role=Role.MANAGER))
    html = client.get(reverse("model-page")).content.decode()
    assert 'data-threshold-category="damaged"' in html and 'name="threshold"' not in html
    assert post_threshold(client, category="damaged", threshold="0.7").status_code == 403
    assert category("damaged").confidence_threshold is None


@pytest.mark.parametrize(
    ("role", "page", "progress", "post"),
    [
        (None, 302, 302, 302),
        (Role.AGENT, 403, 403, 403),
        (Role.LEAD, 403, 403, 403),
        (Role.MANAGER, 200, 200, 403),
        (Role.ADMIN, 200, 200, 302),
    ],
)
def test_who_may_see_and_change_the_model_page(client, thresholds, role, page, progress, post):
    if role is not None:
        client.force_login(UserFactory(username=f"u-{role}", role=role))
    assert client.get(reverse("model-page")).status_code == page
    assert client.get(reverse("model-training-progress")).status_code == progress
    response = client.post(reverse("model-page"), {"action": "threshold", "category": "price", "threshold": "0.7"})
    assert response.status_code == post
    if role is None:
        assert response.url.startswith(reverse("login"))
    assert (category("price").confidence_threshold == 0.7) is (role == Role.ADMIN)


@pytest.mark.parametrize(("role", "shown"), [(Role.AGENT, False), (Role.LEAD, False), (Role.MANAGER, True), (Role.ADMIN, True)])
def test_the_top_navigation_links_the_model_page_for_admins_and_managers_only(client, role, shown):
    client.force_login(UserFactory(username=f"n-{role}", role=role))
    html = client.get(reverse("ticket-list")).content.decode()
    assert (f'href="{reverse("model-page")}"' in html) is shown


def test_a_current_threshold_off_the_grid_gets_its_own_row(sample):
    category_threshold_set(category=category("damaged"), threshold=0.72, user=None)
    tradeoff = rows_by_code(model_threshold_report())["damaged"].tradeoff
    thresholds = [t for t, _, _ in tradeoff]
    assert 0.72 in thresholds and thresholds == sorted(thresholds) and len(thresholds) == 13
    recent = dict((t, r) for t, r, _ in tradeoff)[0.72]
    assert (recent.applied, recent.correct) == (2, 1)  # 0.9 right and 0.8 wrong clear it; 0.6 does not
