"""Notifications: an in-app row, and email/webhook deliveries sent by a Celery task.

Deliveries are enqueued after commit and sent by ``issues.deliver_notification``
with retries and backoff, so a slow or failing webhook never blocks triage.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import user_is_admin
from accounts.selectors import user_language

from ..conf import issue_setting
from ..models import (
    DeliveryChannel,
    DeliveryStatus,
    Department,
    Issue,
    Notification,
    NotificationDelivery,
)

logger = logging.getLogger(__name__)


class TranslatableText:
    """A notification text as its Chinese gettext message and parameters, rendered once per language.

    A parameter may be a callable taking the language (``issue.display_title``,
    ``department.display_name``), for parts that are themselves translated.
    """

    def __init__(self, message: str, **params: Any):
        self.message = message
        self.params = params

    def render(self, language: str) -> str:
        from django.utils import translation
        from django.utils.translation import gettext

        with translation.override(language):
            values = {name: value(language) if callable(value) else value for name, value in self.params.items()}
            return gettext(self.message) % values if values else gettext(self.message)


def _texts(title: str | TranslatableText, body: str | TranslatableText) -> tuple[str, str, dict[str, dict]]:
    """The default-language title and body, and the other languages' versions for the payload."""
    default = settings.LANGUAGE_CODE
    render = lambda text, language: text.render(language) if isinstance(text, TranslatableText) else text  # noqa: E731
    others = {}
    if isinstance(title, TranslatableText) or isinstance(body, TranslatableText):
        for code, _name in settings.LANGUAGES:
            if code != default:
                others[code[:2]] = {"title": render(title, code)[:200], "body": render(body, code)}
    return render(title, default), render(body, default), others


class DeliveryError(RuntimeError):
    """A delivery could not be sent; the task retries it."""


def department_lead_addresses(department: Department) -> list[tuple[str, str]]:
    """The department's active leads' email addresses, each with the language its reader chose."""
    from accounts.models import User

    leads = User.objects.filter(department=department, role=Role.LEAD, is_active=True).exclude(email="")
    return sorted((lead.email, user_language(lead)) for lead in leads)


def _emails_by_language(*, department: Department | None, recipient) -> dict[str, list[str]]:
    """Group the addresses a notification goes to by the language each reader chose.

    A department's shared mailbox has no reader to ask and gets the site's default language; a person
    who is also that mailbox's reader gets their own language.
    """
    languages: dict[str, str] = {}
    if department is not None:
        if department.email:
            languages[department.email] = settings.LANGUAGE_CODE
        languages.update(department_lead_addresses(department))
    if recipient is not None and recipient.email:
        languages[recipient.email] = user_language(recipient)
    grouped: dict[str, list[str]] = {}
    for address, language in sorted(languages.items()):
        grouped.setdefault(language, []).append(address)
    return grouped


def issue_url(issue_id: int) -> str:
    return f"{issue_setting('ISSUE_SITE_URL').rstrip('/')}/issues/{issue_id}/"


def notification_create(
    *,
    kind: str,
    title: str | TranslatableText,
    body: str | TranslatableText = "",
    department: Department | None = None,
    recipient=None,
    issue: Issue | None = None,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Create one notification and its email/webhook deliveries; None if ``dedupe_key`` was already used.

    A department notification goes to the department's email and its leads' emails,
    and to its webhook URL; a user notification goes to the user's email. Emails are written
    in each reader's language (one delivery per language); a webhook carries every language.
    """
    if department is None and recipient is None:
        raise ValueError("a notification needs a department or a recipient")
    title, body, translations = _texts(title, body)
    if translations:
        payload = {**(payload or {}), "text": translations}
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                kind=kind,
                title=title[:200],
                body=body,
                department=department,
                recipient=recipient,
                issue=issue,
                payload=payload or {},
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        return None
    deliveries: list[NotificationDelivery] = []
    if department is not None and department.webhook_url:
        deliveries.append(
            NotificationDelivery(notification=notification, channel=DeliveryChannel.WEBHOOK, target=department.webhook_url)
        )
    # One email per language, so each reader gets the text in the language they chose.
    for language, addresses in _emails_by_language(department=department, recipient=recipient).items():
        deliveries.append(NotificationDelivery(
            notification=notification, channel=DeliveryChannel.EMAIL, target=",".join(addresses), language=language,
        ))
    created = NotificationDelivery.objects.bulk_create(deliveries)
    deliveries_enqueue(delivery_ids=[d.pk for d in created])
    return notification


def deliveries_enqueue(*, delivery_ids: list[int]) -> None:
    """Send deliveries by Celery once the transaction commits; a broker outage leaves them for the sweeper."""
    if not delivery_ids:
        return

    def send() -> None:
        from ..tasks import deliver_notification

        for delivery_id in delivery_ids:
            try:
                deliver_notification.apply_async(args=[delivery_id], retry=False)
            except Exception as error:
                logger.warning("broker unavailable, delivery %s left for the sweeper: %s", delivery_id, error)
                return

    transaction.on_commit(send)


def notification_texts(notification: Notification) -> dict[str, dict[str, str]]:
    """The notification's title and body in every language of the site, keyed by language code."""
    return {code: {"title": notification.display_title(code), "body": notification.display_body(code)}
            for code, _name in settings.LANGUAGES}


def webhook_payload(notification: Notification) -> dict[str, Any]:
    """Build the JSON a DingTalk, WeCom or Feishu text bot accepts, plus the structured event.

    A group chat has readers of both languages and no one to ask: the text carries the Chinese
    first, then the English where it differs, and the event carries both (``texts``).
    """
    texts = notification_texts(notification)
    parts: list[str] = []
    for language in texts.values():
        part = f"{language['title']}\n{language['body']}".strip()
        if part not in parts:
            parts.append(part)
    text = "\n\n".join(parts)
    if notification.issue_id:
        text += f"\n{issue_url(notification.issue_id)}"
    return {
        # DingTalk and WeCom read msgtype/text; Feishu reads msg_type/content. Each ignores the other's keys.
        "msgtype": "text",
        "text": {"content": text},
        "msg_type": "text",
        "content": {"text": text},
        "event": {
            "kind": notification.kind,
            "title": notification.title,
            "issue_id": notification.issue_id,
            "department": notification.department.code if notification.department_id else None,
            "payload": notification.payload,
            "texts": texts,
            "created_at": notification.created_at.isoformat(),
        },
    }


def delivery_send(*, delivery_id: int, final_attempt: bool = False) -> bool:
    """Send one delivery; return False if it was already sent. Raise DeliveryError on failure.

    At-least-once: a worker killed between the send and the status update sends again.
    """
    delivery = NotificationDelivery.objects.select_related("notification", "notification__department").get(
        pk=delivery_id
    )
    if delivery.status == DeliveryStatus.SENT:
        return False
    NotificationDelivery.objects.filter(pk=delivery_id).update(attempts=F("attempts") + 1)
    notification = delivery.notification
    try:
        if delivery.channel == DeliveryChannel.EMAIL:
            subject, body = email_text(notification, delivery.language or settings.LANGUAGE_CODE)
            send_mail(
                subject=subject,
                message=body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[address for address in delivery.target.split(",") if address],
            )
        else:
            response = requests.post(
                delivery.target, json=webhook_payload(notification), timeout=issue_setting("ISSUE_WEBHOOK_TIMEOUT")
            )
            response.raise_for_status()
            _check_bot_answer(response)
    except Exception as error:
        NotificationDelivery.objects.filter(pk=delivery_id).update(
            last_error=f"{type(error).__name__}: {error}"[:2000],
            status=DeliveryStatus.FAILED if final_attempt else DeliveryStatus.PENDING,
        )
        raise DeliveryError(str(error)) from error
    NotificationDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def email_text(notification: Notification, language: str) -> tuple[str, str]:
    """Return the subject and body of ``notification``'s email in ``language``."""
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override(language):
        subject = gettext("[问题库] %(title)s") % {"title": notification.display_title(language)}
    body = notification.display_body(language)
    if notification.issue_id:
        body += f"\n\n{issue_url(notification.issue_id)}"
    return subject, body


def _check_bot_answer(response: requests.Response) -> None:
    # DingTalk/WeCom answer 200 with {"errcode": 310000, ...} for a rejected message.
    try:
        answer = response.json()
    except ValueError:
        return
    if isinstance(answer, dict):
        code = answer.get("errcode", answer.get("code", 0))
        if code not in (0, None, "0"):
            raise DeliveryError(f"bot rejected the message: {answer}")


def deliveries_sweep(*, older_than_minutes: int = 10, max_attempts: int = 8) -> int:
    """Re-enqueue deliveries still pending after a while (e.g. created while the broker was down)."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    ids = list(
        NotificationDelivery.objects.filter(
            status=DeliveryStatus.PENDING, created_at__lt=cutoff, attempts__lt=max_attempts
        ).values_list("id", flat=True)[:1000]
    )
    from ..tasks import deliver_notification

    for delivery_id in ids:
        try:
            deliver_notification.apply_async(args=[delivery_id], retry=False)
        except Exception as error:
            logger.warning("broker unavailable, deliveries stay pending: %s", error)
            break
    return len(ids)


def notifications_for_user(user) -> QuerySet[Notification]:
    """Notifications a user sees in the app: their own, and their department's if they lead it."""
    audience = Q(recipient=user)
    if user.role == Role.LEAD and user.department_id:
        audience |= Q(recipient__isnull=True, department_id=user.department_id)
    if user_is_admin(user):
        audience |= Q(recipient__isnull=True)
    return Notification.objects.filter(audience)


def notifications_mark_read(*, user, notification_ids: list[int] | None = None) -> int:
    """Mark some (or all) of a user's visible notifications read; return how many changed."""
    visible = notifications_for_user(user).filter(read_at__isnull=True)
    if notification_ids is not None:
        visible = visible.filter(pk__in=notification_ids)
    return visible.update(read_at=timezone.now())
