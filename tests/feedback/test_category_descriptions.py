"""Each category says what it covers in Chinese and in English, and pages show the reader's language."""
from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from feedback.models import Category, TriageStatus
from feedback.taxonomy import CATEGORY_CODES, CATEGORY_DESCRIPTIONS_EN
from tests.factories import TicketFactory, UserFactory, category

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


@pytest.mark.parametrize("code", CATEGORY_CODES)
def test_the_migration_gives_every_seeded_category_an_english_description(code):
    seeded = category(code)
    assert seeded.description and CJK.search(seeded.description)
    assert seeded.description_en == CATEGORY_DESCRIPTIONS_EN[code]
    assert len(seeded.description_en) > 40 and not CJK.search(seeded.description_en)


def test_the_english_descriptions_are_ten_different_texts():
    assert set(CATEGORY_DESCRIPTIONS_EN) == set(CATEGORY_CODES)
    assert len(set(CATEGORY_DESCRIPTIONS_EN.values())) == len(CATEGORY_CODES)


@pytest.mark.parametrize("language, description_en, expected", [
    ("zh-hans", "Arrived broken.", "到货破损"),
    ("en", "Arrived broken.", "Arrived broken."),
    ("en-us", "Arrived broken.", "Arrived broken."),
    ("en", "", "到货破损"),  # nobody wrote the English of a new category yet: the Chinese, not nothing
])
def test_the_description_follows_the_language(language, description_en, expected):
    assert Category(description="到货破损", description_en=description_en).display_description(language) == expected


@pytest.mark.parametrize("language, expected", [("zh-hans", "description"), ("en", "description_en")])
def test_the_ticket_page_says_what_the_predicted_category_covers(client, language, expected):
    damaged = category("damaged")
    ticket = TicketFactory(text="瓶子裂开漏液了", triage_status=TriageStatus.NEEDS_REVIEW, predicted_category=damaged,
                           prediction_confidence=0.41, prediction_top=[{"code": "damaged", "confidence": 0.41}])
    client.force_login(UserFactory(username="reader"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    assert f"<p class=\"muted small\" data-category-description>{escape(getattr(damaged, expected))}</p>" in page
    other = "description" if expected == "description_en" else "description_en"
    assert escape(getattr(damaged, other)) not in page


@pytest.mark.parametrize("language, field", [("zh-hans", "description"), ("en", "description_en")])
def test_the_review_stream_offers_each_category_with_its_description(client, language, field):
    client.force_login(UserFactory(username="agent_reader"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(reverse("review-stream")).content.decode()
    for code in CATEGORY_CODES:
        assert f'data-category="{code}" title="{escape(getattr(category(code), field))}"' in page


def test_the_api_carries_both_descriptions(agent_client):
    rows = {row["code"]: row for row in agent_client.get("/api/categories/").json()}
    assert rows["damaged"]["description"] == category("damaged").description
    assert rows["damaged"]["description_en"] == CATEGORY_DESCRIPTIONS_EN["damaged"]


def test_an_admin_edits_both_descriptions(client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    damaged = category("damaged")
    url = reverse("admin:feedback_category_change", args=[damaged.pk])
    form = client.get(url).content.decode()
    assert 'name="description"' in form and 'name="description_en"' in form
    response = client.post(url, {
        "code": damaged.code, "name_zh": damaged.name_zh, "name_en": damaged.name_en,
        "description": damaged.description, "description_en": "Broken, leaking or spoiled on arrival.",
        "default_department": damaged.default_department_id, "is_active": "on", "sort_order": damaged.sort_order,
    })
    assert response.status_code == 302
    damaged.refresh_from_db()
    assert damaged.description_en == "Broken, leaking or spoiled on arrival."
