"""Notifications: in-app rows, plus one delivery record per email or webhook send."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    SPIKE = "spike", _("问题激增")
    OVERDUE = "overdue", _("问题超时")
    REGRESSED = "regressed", _("问题复发")
    ASSIGNED = "assigned", _("指派给你")
    ROUTED = "routed", _("问题转入")
    DAILY_REPORT = "daily_report", _("每日高频问题报告")
    MODEL = "model", _("分类模型故障")


class Notification(models.Model):
    """A message for one user, or for a department (its leads see it in the app)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    department = models.ForeignKey(
        "issues.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    issue = models.ForeignKey("issues.Issue", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    # Makes "notify once per spike / per overdue episode" a database guarantee.
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | Q(department__isnull=False), name="notification_has_audience"
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_user_unread"),
            models.Index(fields=["department", "read_at"], name="notification_dept_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"

    def _text(self, part: str, language: str) -> str:
        # title/body hold the default language (what emails carry); payload["text"] the others,
        # written by notification_create from a TranslatableText.
        stored = getattr(self, part)
        if language.startswith(settings.LANGUAGE_CODE[:2]):
            return stored
        texts = (self.payload or {}).get("text", {}) if isinstance(self.payload, dict) else {}
        return (texts.get(language[:2]) or {}).get(part) or stored

    def display_title(self, language: str) -> str:
        return self._text("title", language)

    def display_body(self, language: str) -> str:
        return self._text("body", language)


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("邮件")
    WEBHOOK = "webhook", "Webhook"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class NotificationDelivery(models.Model):
    """One attempt-tracked send of a notification by email or webhook."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=DeliveryChannel.choices)
    # Comma-separated addresses for email, the URL for a webhook.
    target = models.TextField()
    # The language an email is written in (its recipients'); empty for a webhook, which carries every language.
    language = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "created_at"], name="delivery_status_created")]

    def __str__(self) -> str:
        return f"{self.channel} {self.status} ({self.attempts})"
