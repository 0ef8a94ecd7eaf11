"""Notifications and issue titles read in the reader's language; what emails carry stays the default."""
from __future__ import annotations

import pytest

from issues.models import Issue, Notification
from issues.services import issues_spikes_detect
from issues.services.notifications import TranslatableText, notification_create
from tests.factories import ProductFactory
from tests.issues.conftest import department, make_ticket

pytestmark = pytest.mark.django_db


def test_a_translatable_notification_is_stored_in_chinese_and_rendered_in_english():
    logistics = department("logistics")
    note = notification_create(
        kind="routed", department=logistics,
        title=TranslatableText("问题转入%(department)s：%(title)s", department=logistics.display_name, title="X"),
        body=TranslatableText("问题 #%(number)s 由%(old)s转给%(new)s。%(reason)s", number=7, old="A", new="B",
                              reason=""),
    )
    note = Notification.objects.get(pk=note.pk)
    assert note.title == "问题转入物流部：X"  # what the email says
    assert note.display_title("zh-hans") == "问题转入物流部：X"
    assert note.display_title("en") == "Issue moved to Logistics: X"
    assert note.display_body("en") == "Issue #7 moved from A to B. "


def test_a_plain_notification_reads_the_same_in_both_languages():
    note = notification_create(kind="routed", department=department("logistics"), title="人写的标题", body="正文")
    assert note.display_title("en") == "人写的标题" and note.display_body("en") == "正文"


def test_the_spike_notification_and_the_issue_title_follow_the_language():
    fruit = ProductFactory(sku="FR-1001", name="赣南脐橙 5斤装", product_category="水果")
    for days_ago in range(1, 8):
        make_ticket(code="logistics_delay", product=fruit, days_ago=days_ago, text="橙子还没到")
    for _ in range(9):
        make_ticket(code="logistics_delay", product=fruit, text="橙子还没到")
    issues_spikes_detect()
    issue = Issue.objects.get(category__code="logistics_delay")
    assert issue.display_title("zh-hans") == issue.title and issue.title.endswith(" · 物流时效")
    assert issue.display_title("en") == issue.title.replace(" · 物流时效", " · Logistics delay")
    spike = Notification.objects.get(kind="spike", issue=issue)
    assert spike.title.startswith("问题激增：")
    assert spike.display_title("en") == f"Spike: {issue.display_title('en')}"
    assert "times the average of the previous 7 days" in spike.display_body("en")


def test_a_hand_edited_title_is_shown_as_written():
    fruit = ProductFactory(sku="FR-1001", name="赣南脐橙", product_category="水果")
    issue = make_ticket(code="logistics_delay", product=fruit).issue
    issue.title = "橙子物流专项"
    assert issue.display_title("en") == "橙子物流专项"
