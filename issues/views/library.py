"""The library overview: every issue with its counts and a 30-day sparkline, for everyone logged in."""
from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render
from django.views import View

from feedback.models import Category

from .. import selectors
from ..forms import PAGE_SIZES, IssueFilterForm
from .common import page_sparklines, paginate


class IssueLibraryView(LoginRequiredMixin, View):
    template_name = "issues/library.html"

    def get(self, request):
        form = IssueFilterForm(request.GET or None)
        filters = form.to_filters()
        issues = selectors.issue_list(filters=filters, user=request.user)
        page = paginate(issues, page_number=request.GET.get("page"), per_page=form.page_size)
        also = None
        if filters["also"]:
            # Shown beside the issue count, never added to it: these tickets count under their first category.
            also = {
                "category": Category.objects.filter(code=filters["also"]).first(),
                "code": filters["also"],
                "tickets": selectors.issue_also_ticket_count(issues=issues, category=filters["also"]),
            }
        return render(request, self.template_name, {
            "also": also,
            "filter_form": form,
            "page_obj": page,
            "issues": page.object_list,
            "sparklines": page_sparklines(page),
            "page_sizes": PAGE_SIZES,
            "is_filtered": any(v for k, v in request.GET.items() if k not in ("page", "per_page", "ordering")),
        })
