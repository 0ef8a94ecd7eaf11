"""The demo data: accounts, products, tickets, their variety and the story they tell."""
from __future__ import annotations

import json
import random
import re
from collections import Counter
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command

from accounts.models import Role, User
from feedback.demo import story
from feedback.demo.catalog import DEMO_USERS, PRODUCT_CATEGORIES, PRODUCTS
from feedback.demo.plan import ticket_plan
from feedback.demo.text import generate_ticket_text, themes_for
from feedback.models import Channel, Product, Ticket, TriageStatus
from feedback.taxonomy import CATEGORY_CODES
from issues.models import Department
from tests.classifier_fixtures import seed_store_dir, seed_store_template  # noqa: F401

SHARED_DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
OVERLAP = 14
# A fixed moment (a Wednesday afternoon) so the plan tests see the same calendar every run.
NOW = datetime(2026, 5, 20, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def plan():
    return ticket_plan(now=NOW)


@pytest.fixture
def fast_passwords(settings):
    # Six PBKDF2 hashes per run would dominate the test time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def daily(tickets, *, now: datetime = NOW) -> Counter:
    """Tickets per days_ago (0 = today)."""
    today = now.date()
    return Counter((today - t.received_at.astimezone(now.tzinfo).date()).days for t in tickets)


def mean(counts: Counter, days_ago: range) -> float:
    return sum(counts[d] for d in days_ago) / len(days_ago)


# --- Text generation (no database) ---


def test_every_category_and_product_category_yields_a_complete_text():
    rng = random.Random(7)
    for category in CATEGORY_CODES:
        for product_category in PRODUCT_CATEGORIES:
            for _ in range(20):
                text = generate_ticket_text(rng, category, product_category)
                assert text.strip()
                assert not re.search(r"\{\w+\}", text), text


def test_generated_texts_are_varied_and_mix_styles():
    rng = random.Random(11)
    texts = [
        generate_ticket_text(rng, rng.choice(CATEGORY_CODES), rng.choice(PRODUCT_CATEGORIES)) for _ in range(2000)
    ]
    assert len(set(texts)) / len(texts) >= 0.9
    assert sum(bool(re.search(r"1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}", t)) for t in texts) >= 60  # phones to mask
    assert sum(not re.search(r"[\u4e00-\u9fff]", t) for t in texts) >= 30  # English only
    assert sum(bool(re.search(r"[這說貨發為問錢買髮]", t)) for t in texts) >= 30  # traditional characters
    assert sum(bool(re.search(r"[\U0001F300-\U0001FAFF]", t)) for t in texts) >= 100  # emoji


def test_story_themes_have_phrases_for_their_product():
    for item in story.STORIES:
        themes = themes_for(item.category, item.product_category)
        for theme in item.themes or {}:
            assert theme in themes, (item.key, theme)


def test_an_unknown_theme_is_refused():
    with pytest.raises(ValueError):
        generate_ticket_text(random.Random(1), "damaged", "书籍", theme="漏液")


# --- The plan (no database) ---


def test_plan_is_deterministic_for_a_seed(plan):
    assert ticket_plan(now=NOW) == plan
    other = ticket_plan(now=NOW, seed=99)
    assert [t.text for t in other] != [t.text for t in plan]


def test_plan_spreads_tickets_over_90_days_with_a_weekly_rhythm(plan):
    assert len(plan) == story.DEFAULT_TICKETS
    counts = daily(plan)
    assert min(counts) == 0 and max(counts) == 89
    assert all(t.received_at <= NOW for t in plan)
    background = [t for t in plan if t.story is None]
    by_weekday = Counter(t.received_at.astimezone(NOW.tzinfo).weekday() for t in background)
    assert by_weekday[0] > by_weekday[5]  # Mondays busier than Saturdays
    assert {t.channel for t in plan} <= set(Channel.values)
    channels = Counter(t.channel for t in plan)
    assert [c for c, _ in channels.most_common(2)] == ["chat", "platform"]


def test_plan_gives_order_numbers_to_most_and_external_ids_to_imports(plan):
    assert sum(bool(t.order_number) for t in plan) / len(plan) > 0.75
    imported = [t for t in plan if t.channel in ("platform", "review", "app")]
    assert all(t.external_id and t.external_source for t in imported)
    assert all(t.external_id is None for t in plan if t.channel not in ("platform", "review", "app"))
    keys = [(t.external_source, t.external_id) for t in imported]
    assert len(keys) == len(set(keys))


def test_size_chart_story_spikes_around_day_40_and_falls_after_the_fix(plan):
    counts = daily(t for t in plan if t.story == "size_chart")
    before_spike = mean(counts, range(45, 56))
    spike = mean(counts, range(38, 43))
    assert spike >= 2.5 * before_spike
    assert max(counts, key=counts.get) in range(38, 43)
    before_fix = mean(counts, range(31, 45))
    after_fix = mean(counts, range(16, 30))
    assert after_fix <= 0.5 * before_fix
    themes = Counter(t.theme for t in plan if t.story == "size_chart")
    assert set(themes) == {"尺码偏小", "色差"}
    assert all(t.sku == "CL-2001" and t.category == "description_mismatch" for t in plan if t.story == "size_chart")


def test_same_day_delivery_cuts_fruit_logistics_complaints_by_about_40_percent(plan):
    fix = story.SAME_DAY_DELIVERY.action_days_ago
    fruit_logistics = [t for t in plan if t.category == "logistics_delay" and t.sku.startswith("FR-")]
    counts = daily(fruit_logistics)
    before = sum(counts[d] for d in range(fix + 1, fix + 15))
    after = sum(counts[d] for d in range(fix - 13, fix + 1))
    assert 0.5 <= after / before <= 0.7


def test_sturdier_packaging_shows_no_significant_change(plan):
    fix = story.STURDIER_PACKAGING.action_days_ago
    counts = daily(t for t in plan if t.sku == "SH-3001" and t.category == "damaged")
    before = sum(counts[d] for d in range(fix + 1, fix + 15))
    after = sum(counts[d] for d in range(fix - 13, fix + 1))
    # Two Poisson counts: |z| well below 1.96.
    assert abs(before - after) / (before + after) ** 0.5 < 1.0


def test_milk_spike_is_spiking_today(plan):
    counts = daily(t for t in plan if t.sku == "MK-7001" and t.category == "damaged")
    trailing = mean(counts, range(2, 9))
    assert counts[1] >= 5 and counts[1] >= 3 * trailing
    assert counts[0] >= 3


def test_story_data_is_complete_for_issue_library_and_impact():
    skus = {p.sku for p in PRODUCTS}
    for item in story.STORIES:
        assert set(item.skus) <= skus and item.category in CATEGORY_CODES
        if item.action:
            assert item.resolved_by in {u.username for u in DEMO_USERS}
            assert item.action_date(NOW.date()) == NOW.date() - timedelta(days=item.action_days_ago)
    assert set(story.BASELINE_DAILY_ORDERS) == skus
    size_chart = story.SIZE_CHART
    assert size_chart.expected_return_rate("CL-2001", 45) > size_chart.expected_return_rate("CL-2001", 10)
    assert size_chart.expected_return_rate("CL-2002", 10) == story.BASELINE_RETURN_RATE["CL-2002"]


def _shared_strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _shared_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _shared_strings(v)]
    return []


def test_texts_copy_nothing_from_the_shared_data(plan):
    files = sorted(SHARED_DATA.glob("*.jsonl"))
    if not files:
        pytest.skip(f"no shared data at {SHARED_DATA}")
    rng = random.Random(3)
    texts = [t.text for t in plan] + [
        generate_ticket_text(rng, rng.choice(CATEGORY_CODES), rng.choice(PRODUCT_CATEGORIES)) for _ in range(3000)
    ]
    ours = {text[i : i + OVERLAP] for text in texts for i in range(len(text) - OVERLAP + 1)}
    shared_hits = set()
    for path in files:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                for value in _shared_strings(json.loads(line)):
                    for i in range(len(value) - OVERLAP + 1):
                        if value[i : i + OVERLAP] in ours:
                            shared_hits.add(value[i : i + OVERLAP])
    assert not shared_hits, sorted(shared_hits)[:20]


def test_demo_passwords_pass_the_configured_validators():
    for user in DEMO_USERS:
        validate_password(user.password)


# --- The command (database) ---


@pytest.mark.django_db
def test_load_demo_creates_accounts_products_and_90_days_of_pending_tickets(fast_passwords):
    with time_machine.travel(NOW, tick=False):
        output = load_demo("--tickets", "300", "--no-triage")

    users = {u.username: u for u in User.objects.all()}
    assert {u.role for u in users.values()} == set(Role.values)
    assert users["lead_logistics"].department.code == "logistics"
    assert users["lead_merch"].department.code == "merchandising"
    assert users["lead_warehouse"].department.code == "warehouse"
    # Every department is staffed: a lead who may act on its issues and an agent they can be assigned to.
    for department in Department.objects.all():
        team = Counter(u.role for u in users.values() if u.department_id == department.pk)
        assert team[Role.LEAD] >= 1 and team[Role.AGENT] >= 1, (department.code, team)
    assert users["admin"].is_superuser and users["admin"].is_staff and users["admin"].role == Role.ADMIN
    for spec in DEMO_USERS:
        assert users[spec.username].check_password(spec.password)
        assert spec.username in output and spec.password in output

    categories = set(Product.objects.values_list("product_category", flat=True))
    assert len(categories) >= 5 and categories <= set(PRODUCT_CATEGORIES)
    assert Product.objects.filter(sku="FR-1001").exists()

    tickets = list(Ticket.objects.all())
    assert len(tickets) == 300
    counts = daily(tickets, now=NOW)
    assert min(counts) == 0 and 85 <= max(counts) <= 89
    assert all(t.triage_status == TriageStatus.PENDING for t in tickets)
    assert sum(t.product_id is not None for t in tickets) / len(tickets) > 0.85
    assert any(t.external_id for t in tickets) and any(t.order_number for t in tickets)
    assert len({t.text for t in tickets}) / len(tickets) >= 0.9
    assert "pending" in output


@pytest.mark.django_db
def test_load_demo_twice_duplicates_nothing(fast_passwords):
    load_demo("--tickets", "300", "--no-triage")
    User.objects.filter(username="agent").update(password="changed-by-someone")
    output = load_demo("--tickets", "300", "--no-triage")

    assert User.objects.count() == len(DEMO_USERS)
    assert Product.objects.count() == len(PRODUCTS)
    assert Ticket.objects.count() == 300
    assert "already loaded" in output
    # A second run never reverts a password someone changed.
    assert User.objects.get(username="agent").password == "changed-by-someone"


@pytest.mark.django_db
def test_reset_recreates_the_same_demo_and_resets_passwords(fast_passwords):
    load_demo("--tickets", "300", "--no-triage")
    texts = sorted(Ticket.objects.values_list("text", flat=True))
    User.objects.filter(username="agent").update(password="changed-by-someone")

    load_demo("--tickets", "300", "--no-triage", "--reset")

    assert sorted(Ticket.objects.values_list("text", flat=True)) == texts
    assert Product.objects.count() == len(PRODUCTS)
    assert User.objects.get(username="agent").check_password("demo-agent-2026")


# Moments the demo must hold its story at: a weekday afternoon, just after midnight (almost
# nothing of today has happened), 双11 and a leap day. The plan's random stream depends on
# the moment (today's share of the day, weekday factors), so each is a different demo.
MOMENTS = [
    NOW,
    datetime(2026, 12, 7, 0, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
    datetime(2026, 11, 11, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    datetime(2028, 2, 29, 23, 50, tzinfo=ZoneInfo("Asia/Shanghai")),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m.strftime("%Y-%m-%d_%H%M"))
def test_size_chart_story_spikes_at_any_moment(moment):
    counts = daily((t for t in ticket_plan(now=moment) if t.sku == "CL-2001"), now=moment)
    assert mean(counts, range(38, 43)) >= 2 * mean(counts, range(11, 26))


@pytest.mark.django_db
@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m.strftime("%Y-%m-%d_%H%M"))
def test_load_demo_writes_the_plan_of_its_moment_into_the_database(fast_passwords, moment):
    """The database holds exactly the planned tickets, day by day, for the clock load_demo read."""
    with time_machine.travel(moment, tick=False):
        load_demo("--tickets", "300", "--no-triage")
    planned = [t for t in ticket_plan(now=moment, total=300) if t.sku == "CL-2001"]
    stored = Ticket.objects.filter(product__sku="CL-2001")

    assert planned, "the size-chart SKU has tickets in a 300-ticket demo"
    assert daily(stored, now=moment) == daily(planned, now=moment)
    assert sorted(stored.values_list("text", flat=True)) == sorted(t.text for t in planned)


@pytest.mark.django_db
def test_load_demo_triages_in_process_when_the_classifier_exists(fast_passwords, monkeypatch):
    classified = []

    def fake_classify(*, ticket_ids: list[int]) -> None:
        classified.extend(ticket_ids)
        Ticket.objects.filter(id__in=ticket_ids).update(triage_status=TriageStatus.CLASSIFIED)

    monkeypatch.setattr("feedback.demo.services._classifier", lambda: fake_classify)
    output = load_demo("--tickets", "50")

    assert len(classified) == 50
    assert not Ticket.objects.filter(triage_status=TriageStatus.PENDING).exists()
    assert "Triage: 50 tickets" in output


@pytest.mark.django_db
def test_a_broken_classifier_leaves_tickets_pending_and_stops_early(fast_passwords, monkeypatch):
    calls = []

    def broken(*, ticket_ids: list[int]) -> None:
        calls.append(ticket_ids)
        raise RuntimeError("model missing")

    monkeypatch.setattr("feedback.demo.services._classifier", lambda: broken)
    monkeypatch.setattr("feedback.demo.services.TRIAGE_BATCH", 10)
    load_demo("--tickets", "50")

    assert len(calls) == 3  # five batches of ten; gives up after three failures with none succeeding
    assert Ticket.objects.filter(triage_status=TriageStatus.PENDING).count() == 50


@pytest.mark.django_db
def test_review_queue_work_confirms_earlier_tickets_as_written_and_leaves_today(fast_passwords):
    from django.utils import timezone

    from feedback.demo.services import (
        demo_products_ensure,
        demo_review_queue_work,
        demo_tickets_create,
        demo_users_ensure,
    )
    from feedback.models import CategoryLabel

    now = NOW
    demo_users_ensure()
    products, _ = demo_products_ensure()
    planned = ticket_plan(now=now, total=200)
    demo_tickets_create(plan=planned, products=products)
    Ticket.objects.update(triage_status=TriageStatus.NEEDS_REVIEW)
    today = now.date()
    earlier = [p for p in planned if timezone.localdate(p.received_at) < today]
    assert 0 < len(earlier) < len(planned)

    with time_machine.travel(now, tick=False):
        assert demo_review_queue_work(plan=planned, before=today) == len(earlier)

    written_for = {(p.text, p.received_at): p.category for p in planned}
    for ticket in Ticket.objects.select_related("category", "confirmed_by"):
        if timezone.localdate(ticket.received_at) < today:
            assert ticket.triage_status == TriageStatus.CONFIRMED
            assert ticket.category.code == written_for[(ticket.text, ticket.received_at)]
            assert ticket.confirmed_by.username == "agent"
        else:
            assert ticket.triage_status == TriageStatus.NEEDS_REVIEW and ticket.category is None
    assert CategoryLabel.objects.filter(labelled_by__username="agent").count() == len(earlier)
    # Issues follow the confirmed categories.
    assert not Ticket.objects.filter(triage_status=TriageStatus.CONFIRMED, issue__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_load_demo_routes_its_issues_in_process(fast_passwords, settings, seed_store_dir, monkeypatch):
    """Nothing is left queued for a worker: the first ticket a newcomer files is not stuck behind it."""
    from feedback.classification import clear_predictor_cache
    from issues.models import Issue
    from issues.tasks import route_issue

    settings.FEEDBACK_MODEL_DIR = seed_store_dir
    clear_predictor_cache()
    queued = []
    monkeypatch.setattr(route_issue, "apply_async", lambda *args, **kwargs: queued.append((args, kwargs)))
    load_demo("--tickets", "150")
    clear_predictor_cache()

    assert Issue.objects.exists()
    assert queued == []
    assert not Issue.objects.filter(routed_at__isnull=True).exists()
