"""Routing rules (admins only): the ordered list, the editor with a preview, and re-routing open issues."""
from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from .. import services
from ..forms import RoutingRuleForm
from ..models import Department, RoutingRule
from ..services.routing import RoutingConfirmationNeeded
from .common import AdminRequiredMixin

logger = logging.getLogger(__name__)

PREVIEW_DAYS = 30


class RoutingRuleListView(AdminRequiredMixin, View):
    template_name = "issues/routing_rules.html"

    def get(self, request):
        rules = RoutingRule.objects.select_related("category", "department", "updated_by").order_by("order", "id")
        return render(request, self.template_name, {"rules": rules})


class RoutingRuleFormView(AdminRequiredMixin, View):
    """Create or edit one rule; the 预览 button shows what it would match without saving it."""

    template_name = "issues/routing_rule_form.html"

    def get_rule(self, pk: int | None) -> RoutingRule | None:
        return get_object_or_404(RoutingRule, pk=pk) if pk is not None else None

    def render_form(self, request, form, rule, preview=None, needs_confirmation=False):
        return render(request, self.template_name, {
            "form": form, "rule": rule, "preview": preview, "preview_days": PREVIEW_DAYS,
            "match_policy": match_policy_points(), "needs_confirmation": needs_confirmation,
            "departments": {d.pk: d for d in Department.objects.all()} if preview else {},
        })

    def get(self, request, pk: int | None = None):
        rule = self.get_rule(pk)
        return self.render_form(request, RoutingRuleForm(instance=rule), rule)

    def post(self, request, pk: int | None = None):
        rule = self.get_rule(pk)
        previewing = "preview" in request.POST
        form = RoutingRuleForm(request.POST, instance=rule, preview=previewing)
        if not form.is_valid():
            return self.render_form(request, form, rule)
        candidate = form.save(commit=False)
        if previewing:
            preview = services.routing_rule_preview(rule=candidate, days=PREVIEW_DAYS)
            return self.render_form(request, form, rule, preview)  # nothing saved
        try:
            services.routing_rule_save(rule=candidate, actor=request.user,
                                       confirm_moves=form.cleaned_data["confirm_moves"])
        except RoutingConfirmationNeeded as error:
            # Show which issues would move, and ask: nothing is saved until the admin ticks the box.
            form.add_error(None, error)
            preview = services.routing_rule_preview(rule=candidate, days=PREVIEW_DAYS)
            return self.render_form(request, form, rule, preview, needs_confirmation=True)
        except ValidationError as error:
            form.add_error(None, error)
            return self.render_form(request, form, rule)
        messages.success(request, _("规则“%(name)s”已保存；未关闭的问题将在后台按新规则重新路由。") % {"name": candidate.name})
        return redirect("routing-rules")


class RoutingRuleDeleteView(AdminRequiredMixin, View):
    template_name = "issues/routing_rule_delete.html"

    def get(self, request, pk: int):
        return render(request, self.template_name, {"rule": get_object_or_404(RoutingRule, pk=pk)})

    def post(self, request, pk: int):
        rule = get_object_or_404(RoutingRule, pk=pk)
        name = rule.name
        services.routing_rule_delete(rule=rule)
        messages.success(request, _("规则“%(name)s”已删除；未关闭的问题将在后台重新路由。") % {"name": name})
        return redirect("routing-rules")


class RoutingRerouteView(AdminRequiredMixin, View):
    """Re-route every open issue by the current rules: by Celery, or in this process when the broker is down."""

    def post(self, request):
        from ..services.routing import reroute_claim_request, reroute_send

        if not reroute_claim_request():
            messages.success(request, _("已提交后台任务，未关闭的问题将按当前规则重新路由。"))
            return redirect("routing-rules")
        if not reroute_send():  # the broker is unreachable: do the work here rather than not at all
            logger.warning("broker unavailable, re-routing open issues in the web process")
            changed = reroute_inline()
            messages.warning(request, ngettext(
                "消息队列不可用，已直接重新路由：%(count)d 个问题更换了部门。",
                "消息队列不可用，已直接重新路由：%(count)d 个问题更换了部门。", changed,
            ) % {"count": changed})
        else:
            messages.success(request, _("已提交后台任务，未关闭的问题将按当前规则重新路由。"))
        return redirect("routing-rules")


def reroute_inline() -> int:
    """Re-route all open issues chunk by chunk in this process; return how many changed department."""
    changed, cursor = services.issues_open_reroute()
    while cursor is not None:
        more, cursor = services.issues_open_reroute(after_id=cursor)
        changed += more
    return changed


def match_policy_points() -> list[str]:
    """The match policy documented in issues.models.routing, one point per line, for the editor."""
    return [
        _("启用的规则按“顺序”从小到大依次尝试，第一条所有条件都符合的规则决定工单的部门。"),
        _("留空的条件匹配任何工单；SKU 匹配商品 SKU 或工单上的原始 SKU；关键词之一出现在工单内容中即匹配（不区分大小写）。"),
        _("没有规则匹配的工单归类别的默认部门。"),
        _("问题归入其近期多数工单对应的部门；手动指定部门的问题不会被路由改变。"),
    ]

