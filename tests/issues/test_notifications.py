from datetime import timedelta

import pytest
import requests
from django.core import mail
from django.utils import timezone

from issues.models import (
    ActivityVerb,
    DeliveryChannel,
    DeliveryStatus,
    Issue,
    Notification,
    NotificationKind,
)
from issues.services import DeliveryError, delivery_send, issues_spikes_detect, notification_create
from tests.issues.conftest import department, make_ticket

pytestmark = pytest.mark.django_db


class FakeResponse:
    def __init__(self, status=200, body=None):
        self.status_code = status
        self._body = body if body is not None else {"errcode": 0}

    def raise_for_status(self):
        if self.status_code >= 400:
            raise requests.HTTPError(f"{self.status_code}")

    def json(self):
        return self._body


@pytest.fixture
def warehouse_with_webhook(db):
    warehouse = department("warehouse")
    warehouse.webhook_url = "https://oapi.dingtalk.example/robot/send?access_token=x"
    warehouse.email = "warehouse@example.com"
    warehouse.save()
    return warehouse


def test_a_department_notification_is_in_app_and_queued_for_email_and_webhook(
    warehouse_with_webhook, warehouse_lead, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = notification_create(kind=NotificationKind.SPIKE, title="激增", body="…",
                                           department=warehouse_with_webhook)
    channels = dict(notification.deliveries.values_list("channel", "target"))
    assert channels == {
        DeliveryChannel.WEBHOOK: warehouse_with_webhook.webhook_url,
        DeliveryChannel.EMAIL: "lead.warehouse@example.com,warehouse@example.com",
    }
    # Sending happens in Celery tasks after commit, never inline.
    assert sorted(name for name, _ in sent_tasks) == ["deliver_notification", "deliver_notification"]


def test_the_same_dedupe_key_notifies_once(warehouse_with_webhook):
    assert notification_create(kind="spike", title="a", department=warehouse_with_webhook, dedupe_key="k") is not None
    assert notification_create(kind="spike", title="a", department=warehouse_with_webhook, dedupe_key="k") is None


def test_webhook_posts_json_with_a_timeout(warehouse_with_webhook, monkeypatch):
    calls = []
    monkeypatch.setattr(requests, "post", lambda url, json, timeout: calls.append((url, json, timeout)) or FakeResponse())
    notification = notification_create(kind="spike", title="问题激增", body="正文", department=warehouse_with_webhook)
    webhook = notification.deliveries.get(channel=DeliveryChannel.WEBHOOK)
    assert delivery_send(delivery_id=webhook.pk) is True
    url, payload, timeout = calls[0]
    assert timeout == 5.0
    assert payload["msgtype"] == "text" and "问题激增" in payload["text"]["content"]
    assert payload["event"]["kind"] == "spike" and payload["event"]["department"] == "warehouse"
    webhook.refresh_from_db()
    assert (webhook.status, webhook.attempts) == (DeliveryStatus.SENT, 1)
    assert delivery_send(delivery_id=webhook.pk) is False  # a redelivered task does not send twice


@pytest.mark.parametrize("response", [FakeResponse(500), FakeResponse(200, {"errcode": 310000, "errmsg": "bad"})])
def test_a_failing_webhook_raises_for_retry_and_is_marked_failed_at_the_end(warehouse_with_webhook, monkeypatch, response):
    monkeypatch.setattr(requests, "post", lambda *a, **k: response)
    notification = notification_create(kind="spike", title="x", department=warehouse_with_webhook)
    webhook = notification.deliveries.get(channel=DeliveryChannel.WEBHOOK)
    with pytest.raises(DeliveryError):
        delivery_send(delivery_id=webhook.pk)
    webhook.refresh_from_db()
    assert webhook.status == DeliveryStatus.PENDING and webhook.last_error
    with pytest.raises(DeliveryError):
        delivery_send(delivery_id=webhook.pk, final_attempt=True)
    webhook.refresh_from_db()
    assert (webhook.status, webhook.attempts) == (DeliveryStatus.FAILED, 2)


def test_the_delivery_task_retries_a_failing_webhook(warehouse_with_webhook, monkeypatch):
    from celery.exceptions import Retry

    from issues.tasks import deliver_notification

    monkeypatch.setattr(requests, "post", lambda *a, **k: (_ for _ in ()).throw(requests.ConnectTimeout("down")))
    notification = notification_create(kind="spike", title="x", department=warehouse_with_webhook)
    webhook = notification.deliveries.get(channel=DeliveryChannel.WEBHOOK)
    monkeypatch.setattr(deliver_notification, "retry", lambda exc, countdown: Retry(exc=exc, when=countdown))
    with pytest.raises(Retry):
        deliver_notification.run(webhook.pk)


def test_email_delivery_uses_djangos_mail_backend(warehouse_with_webhook, warehouse_lead):
    notification = notification_create(kind="overdue", title="超时", body="2 个问题", department=warehouse_with_webhook)
    email = notification.deliveries.get(channel=DeliveryChannel.EMAIL)
    delivery_send(delivery_id=email.pk)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lead.warehouse@example.com", "warehouse@example.com"]
    assert "超时" in mail.outbox[0].subject


def spike_issue(shampoo, today_count: int, daily_before: int) -> Issue:
    for day in range(1, 8):
        for _ in range(daily_before):
            make_ticket(product=shampoo, days_ago=day)
    for _ in range(today_count):
        make_ticket(product=shampoo, days_ago=0)
    return Issue.objects.get()


@pytest.mark.parametrize("today_count, daily_before, spiking", [
    (6, 1, True),     # 6 >= 3 x 1 and >= 5
    (4, 0, False),    # fewer than 5 tickets
    (5, 2, False),    # 5 < 3 x 2
    (6, 2, True),
])
def test_a_spike_is_a_jump_over_the_issues_own_baseline(shampoo, today_count, daily_before, spiking):
    issue = spike_issue(shampoo, today_count, daily_before)
    started, _ = issues_spikes_detect()
    issue.refresh_from_db()
    assert issue.is_spiking is spiking and (started == [issue.pk]) is spiking


def test_a_spike_notifies_the_department_once_and_ends_when_the_jump_is_over(shampoo, warehouse_lead):
    issue = spike_issue(shampoo, 8, 1)
    issues_spikes_detect()
    issues_spikes_detect()
    assert Notification.objects.filter(kind=NotificationKind.SPIKE, issue=issue).count() == 1
    assert issue.activities.filter(verb=ActivityVerb.SPIKING).count() == 1
    # Two days later neither "today" nor "yesterday" meets the threshold.
    issues_spikes_detect(now=timezone.now() + timedelta(days=2))
    issue.refresh_from_db()
    assert not issue.is_spiking


def test_spike_thresholds_are_tunable(settings, shampoo):
    settings.ISSUE_SPIKE_MIN_TICKETS = 3
    settings.ISSUE_SPIKE_RATIO = 2
    issue = spike_issue(shampoo, 3, 1)
    issues_spikes_detect()
    issue.refresh_from_db()
    assert issue.is_spiking
