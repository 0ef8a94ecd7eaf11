"""Sub-themes: clusters of what customers actually say within a category or an issue."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SubThemeStatus(models.TextChoices):
    ACTIVE = "active", _("子主题")
    CANDIDATE = "candidate", _("候选新类别")
    PROMOTED = "promoted", _("已升级为类别")
    MERGED = "merged", _("已并入类别")
    DISMISSED = "dismissed", _("已忽略")


class SubTheme(models.Model):
    """One cluster of ticket texts, labelled by its top keywords.

    ``is_candidate`` marks clusters of ``other`` and low-confidence tickets: a lead
    may promote one to a new category or merge it into an existing one.
    """

    category = models.ForeignKey(
        "feedback.Category", verbose_name=_("类别"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="subthemes",
    )
    issue = models.ForeignKey(
        "issues.Issue", verbose_name=_("问题"), null=True, blank=True, on_delete=models.CASCADE, related_name="subthemes"
    )
    label = models.CharField(_("标签"), max_length=120)
    keywords = models.JSONField(_("关键词"), default=list, blank=True)
    size = models.PositiveIntegerField(_("工单数"), default=0)
    # Mean cosine similarity of members to the cluster centre: how tight the cluster is.
    cohesion = models.FloatField(default=0.0)
    example_ticket_ids = models.JSONField(default=list, blank=True)
    ticket_ids = models.JSONField(default=list, blank=True)
    is_candidate = models.BooleanField(_("候选新类别"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=SubThemeStatus.choices, default=SubThemeStatus.ACTIVE)
    resulting_category = models.ForeignKey(
        "feedback.Category", verbose_name=_("结果类别"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-size", "id"]
        verbose_name = _("子主题")
        verbose_name_plural = _("子主题")
        indexes = [
            models.Index(fields=["category", "status"], name="subtheme_category_status"),
            models.Index(fields=["issue", "status"], name="subtheme_issue_status"),
            models.Index(fields=["is_candidate", "status"], name="subtheme_candidates"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.size})"
