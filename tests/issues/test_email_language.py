"""Emails go out in each reader's language (the one they last chose in the app); webhooks carry both."""
from __future__ import annotations

import io

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Role
from issues.models import DeliveryChannel
from issues.services import delivery_send, issue_assign, notification_create
from issues.services.notifications import TranslatableText, webhook_payload
from tests.factories import UserFactory
from tests.issues.conftest import department, make_ticket

pytestmark = pytest.mark.django_db


def routed_note(logistics):
    return notification_create(
        kind="routed", department=logistics,
        title=TranslatableText("问题转入%(department)s：%(title)s", department=logistics.display_name, title="X"),
        body=TranslatableText("问题 #%(number)s 由%(old)s转给%(new)s。%(reason)s", number=7, old="A", new="B",
                              reason=""),
    )


@pytest.fixture
def logistics_readers(db):
    logistics = department("logistics")
    logistics.email = "logistics@example.com"
    logistics.webhook_url = "https://oapi.dingtalk.example/robot/send?access_token=x"
    logistics.save()
    UserFactory(username="lead_zh", role=Role.LEAD, department=logistics, email="lead.zh@example.com")
    UserFactory(username="lead_en", role=Role.LEAD, department=logistics, email="lead.en@example.com", language="en")
    return logistics


@pytest.mark.parametrize("posted, stored", [("en", "en"), ("zh-hans", "zh-hans"), ("klingon", "zh-hans"), ("", "zh-hans")])
def test_the_language_switch_keeps_the_choice_on_the_profile(client, posted, stored):
    user = UserFactory(username="switcher")
    assert user.language == "zh-hans"  # the default
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": posted, "next": "/tickets/"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == stored


def test_switching_back_to_chinese_is_kept_too(client):
    user = UserFactory(username="switcher", language="en")
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    user.refresh_from_db()
    assert user.language == "zh-hans"


def test_the_account_page_says_which_language_emails_use(client):
    client.force_login(UserFactory(username="reader", language="en"))
    assert '<dd data-email-language lang="en">English</dd>' in client.get(reverse("account")).content.decode()


def test_a_department_notification_sends_one_email_per_language(logistics_readers):
    note = routed_note(logistics_readers)
    emails = {d.language: d for d in note.deliveries.filter(channel=DeliveryChannel.EMAIL)}
    # The shared mailbox has nobody to ask: the site's default language.
    assert {language: d.target for language, d in emails.items()} == {
        "zh-hans": "lead.zh@example.com,logistics@example.com", "en": "lead.en@example.com"}
    for delivery in emails.values():
        delivery_send(delivery_id=delivery.pk)
    sent = {tuple(message.to): message for message in mail.outbox}
    chinese = sent[("lead.zh@example.com", "logistics@example.com")]
    english = sent[("lead.en@example.com",)]
    assert chinese.subject == "[问题库] 问题转入物流部：X"
    assert chinese.body == "问题 #7 由A转给B。"
    assert english.subject == "[Issue library] Issue moved to Logistics: X"
    assert english.body == "Issue #7 moved from A to B. "


def test_an_assignment_email_is_in_the_assignees_language(logistics_readers, settings):
    settings.ISSUE_SITE_URL = "https://triage.example.com"
    lead = logistics_readers.members.get(username="lead_zh")
    member = UserFactory(username="member_en", role=Role.AGENT, department=logistics_readers,
                         email="member@example.com", language="en")
    issue = make_ticket(code="logistics_delay").issue
    issue.department = logistics_readers
    issue.save()
    issue_assign(issue=issue, assignee=member, actor=lead)
    delivery = member.notifications.get().deliveries.get(channel=DeliveryChannel.EMAIL)
    assert (delivery.target, delivery.language) == ("member@example.com", "en")
    delivery_send(delivery_id=delivery.pk)
    message = mail.outbox[-1]
    assert message.subject.startswith("[Issue library] ") and "问题" not in message.subject
    assert message.body.endswith(f"https://triage.example.com/issues/{issue.pk}/")


def test_a_delivery_written_before_languages_is_sent_in_the_default_language(logistics_readers):
    note = routed_note(logistics_readers)
    delivery = note.deliveries.filter(channel=DeliveryChannel.EMAIL).first()
    delivery.language = ""
    delivery.save()
    delivery_send(delivery_id=delivery.pk)
    assert mail.outbox[0].subject == "[问题库] 问题转入物流部：X"


def test_a_webhook_carries_both_languages(logistics_readers):
    note = routed_note(logistics_readers)
    webhook = note.deliveries.get(channel=DeliveryChannel.WEBHOOK)
    assert webhook.language == ""
    payload = webhook_payload(note)
    text = payload["text"]["content"]
    assert text.index("问题转入物流部：X") < text.index("Issue moved to Logistics: X")
    assert payload["content"]["text"] == text
    assert payload["event"]["texts"] == {
        "zh-hans": {"title": "问题转入物流部：X", "body": "问题 #7 由A转给B。"},
        "en": {"title": "Issue moved to Logistics: X", "body": "Issue #7 moved from A to B. "},
    }


def test_a_webhook_says_a_text_people_typed_once(logistics_readers):
    note = notification_create(kind="routed", department=logistics_readers, title="人写的标题", body="正文")
    assert webhook_payload(note)["text"]["content"] == "人写的标题\n正文"


def test_the_daily_report_goes_out_in_each_readers_language(settings, shampoo):
    from openpyxl import load_workbook

    from issues.reports import daily_report_send

    settings.ISSUE_REPORT_RECIPIENTS = ["ops@example.com"]
    UserFactory(username="manager_en", role=Role.MANAGER, email="manager@example.com", language="en")
    UserFactory(username="lead_zh", role=Role.LEAD, department=department("warehouse"), email="lead@example.com")
    UserFactory(username="agent_en", role=Role.AGENT, email="agent@example.com", language="en")  # not a reader
    make_ticket(code="damaged", product=shampoo, days_ago=1)
    assert daily_report_send() == 3
    sent = {tuple(message.to): message for message in mail.outbox}
    assert set(sent) == {("lead@example.com", "ops@example.com"), ("manager@example.com",)}
    chinese, english = sent[("lead@example.com", "ops@example.com")], sent[("manager@example.com",)]
    assert chinese.subject.startswith("[问题库] 每日高频问题报告 ") and "去屑洗发水" in chinese.body
    assert english.subject.startswith("[Issue library] Daily top-issues report ")
    assert "【Most tickets that day】" in english.body and "Damaged" in english.body
    assert "当日" not in english.body and "完整报告" not in english.body
    headers = [cell.value for cell in load_workbook(io.BytesIO(english.attachments[0][1])).active[2]]
    assert headers[:3] == ["Section", "Rank", "Issue"]
