"""Candidate new issue types: clusters of `other` and low-confidence tickets a lead may promote or merge."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from feedback.models import Ticket

from .. import selectors, services
from ..forms import CandidateMergeForm, PromoteForm
from ..models import SubTheme, SubThemeStatus
from .common import SubthemeDeciderRequiredMixin

EXAMPLES_PER_CANDIDATE = 4


def candidate_examples(candidates: list[SubTheme]) -> dict[int, list[Ticket]]:
    """{candidate id: its example tickets} in one query for the whole page."""
    wanted = {c.pk: list(c.example_ticket_ids or [])[:EXAMPLES_PER_CANDIDATE] for c in candidates}
    tickets = Ticket.objects.only("id", "text", "received_at").in_bulk([i for ids in wanted.values() for i in ids])
    return {pk: [tickets[i] for i in ids if i in tickets] for pk, ids in wanted.items()}


class CandidateListView(SubthemeDeciderRequiredMixin, View):
    template_name = "issues/candidates.html"

    def get(self, request, forms: dict | None = None):
        candidates = selectors.candidate_subthemes()
        examples = candidate_examples(candidates)
        forms = forms or {}
        rows = [
            {
                "candidate": candidate,
                "examples": examples.get(candidate.pk, []),
                "promote_form": forms.get(("promote", candidate.pk))
                or PromoteForm(prefix=f"promote-{candidate.pk}", initial={"name_zh": candidate.label[:40]}),
                "merge_form": forms.get(("merge", candidate.pk)) or CandidateMergeForm(prefix=f"merge-{candidate.pk}"),
            }
            for candidate in candidates
        ]
        return render(request, self.template_name, {"rows": rows})


class CandidateDecisionView(SubthemeDeciderRequiredMixin, View):
    """POST promote, merge or dismiss for one candidate."""

    def post(self, request, pk: int, decision: str):
        if decision not in ("promote", "merge", "dismiss"):
            raise Http404
        candidate = get_object_or_404(SubTheme, pk=pk, is_candidate=True)
        if candidate.status != SubThemeStatus.CANDIDATE:
            messages.warning(request, _("这个候选已经处理过了。"))
            return redirect("subtheme-candidates")
        if decision == "dismiss":
            services.subtheme_dismiss(subtheme=candidate, actor=request.user)
            messages.success(request, _("已忽略候选“%(label)s”。") % {"label": candidate.label})
            return redirect("subtheme-candidates")
        form_class = PromoteForm if decision == "promote" else CandidateMergeForm
        form = form_class(request.POST, prefix=f"{decision}-{candidate.pk}")
        if form.is_valid():
            try:
                message = self.promote(candidate, form.cleaned_data) if decision == "promote" else \
                    self.merge(candidate, form.cleaned_data)
            except services.IssueActionError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, message)
                return redirect("subtheme-candidates")
        messages.error(request, _("操作未完成，请检查下方的提示。"))
        page = CandidateListView()
        page.setup(request)
        return page.get(request, forms={(decision, candidate.pk): form})

    def promote(self, candidate: SubTheme, data: dict) -> str:
        category = services.subtheme_promote(
            subtheme=candidate, code=data["code"], name_zh=data["name_zh"], name_en=data["name_en"],
            department=data["department"], actor=self.request.user,
        )
        return _("已新建类别“%(name)s”（%(code)s），其工单将用于下次训练。") % {"name": category.name_zh, "code": category.code}

    def merge(self, candidate: SubTheme, data: dict) -> str:
        count = services.subtheme_merge(subtheme=candidate, category=data["category"], actor=self.request.user)
        return ngettext(
            "已将 %(count)d 张工单并入“%(name)s”。", "已将 %(count)d 张工单并入“%(name)s”。", count
        ) % {"count": count, "name": data["category"].name_zh}
