"""Routing rules: which department an issue goes to.

Match policy (also shown to admins in the rule editor):

* Active rules are tried by ascending ``order`` (then id); the first rule whose
  conditions all match a ticket wins, and the ticket routes to its department.
* An empty condition matches anything. ``sku`` matches the product's SKU or
  the raw SKU on the ticket; ``keywords`` match when any one of them is a
  substring of the ticket text (case-insensitive).
* A ticket that no rule matches routes to its category's default department.
* An issue goes to the department most of its recent tickets route to (ties:
  the department of the lowest-ordered rule). A department set by hand is
  never changed by routing.
"""
from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

_KEYWORD_SPLIT = re.compile(r"[,，、;；\n\r]+")


class RoutingRule(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    order = models.PositiveIntegerField(_("顺序"), default=100, help_text=_("数字小的规则先匹配"))
    category = models.ForeignKey(
        "feedback.Category", verbose_name=_("类别"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product_category = models.CharField(_("商品品类"), max_length=40, blank=True)
    sku = models.CharField("SKU", max_length=64, blank=True)
    channel = models.CharField(_("渠道"), max_length=16, blank=True)
    keywords = models.TextField(_("关键词"), blank=True, help_text=_("用逗号或换行分隔；任一关键词出现在工单内容中即匹配"))
    department = models.ForeignKey(
        "issues.Department", verbose_name=_("部门"), on_delete=models.CASCADE, related_name="routing_rules"
    )
    is_active = models.BooleanField(_("启用"), default=True)
    # The rule routes issues created after it, and never moves an issue that already existed.
    new_issues_only = models.BooleanField(
        _("只用于新问题"), default=False, help_text=_("勾选后，规则只决定之后新出现的问题的部门，不移动已有问题")
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("路由规则")
        verbose_name_plural = _("路由规则")

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"

    def applies_to(self, issue) -> bool:
        """Tell whether this rule may route ``issue`` (a new-issues-only rule skips older issues)."""
        if not self.new_issues_only:
            return True
        return self.created_at is not None and issue.created_at is not None and issue.created_at >= self.created_at

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip().lower() for k in _KEYWORD_SPLIT.split(self.keywords or "") if k.strip()]


class RerouteState(models.Model):
    """The one row that makes re-routing coalesce (issues.services.routing).

    ``pending`` is claimed with a conditional update, so however many rules are saved only one
    re-route task waits in the queue; the pass that starts clears it (later saves then queue
    exactly one more) and takes a new ``generation``, which makes an older pass still walking
    its chunks stop, since the newer one covers everything again with the newest rules.
    """

    pending = models.BooleanField(default=False)
    requested_at = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"reroute generation {self.generation}{' (pending)' if self.pending else ''}"
