"""What the issue pages share: role gates, pagination and the batch sparklines."""
from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.utils.http import url_has_allowed_host_and_scheme

from .. import selectors
from ..permissions import user_can_decide_subthemes, user_can_manage_routing


class AdminRequiredMixin(LoginRequiredMixin):
    """Log in first, then be an admin (routing rules)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not user_can_manage_routing(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class SubthemeDeciderRequiredMixin(LoginRequiredMixin):
    """Log in first, then be a lead or an admin (sub-theme candidates)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not user_can_decide_subthemes(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def paginate(queryset, *, page_number, per_page: int) -> Page:
    """Return one page; a page number out of range shows the last page, garbage the first."""
    return Paginator(queryset, per_page).get_page(page_number)


def page_sparklines(page: Page, *, days: int = 30) -> dict[int, list[int]]:
    """Return {issue id: daily counts} for the issues of one page, in one query."""
    return selectors.issue_sparklines(issue_ids=[issue.pk for issue in page.object_list], days=days)


def safe_next(request, fallback: str) -> str:
    """The ``next`` the form came from, if it points back into this site; else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return fallback
