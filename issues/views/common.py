"""What the issue pages share: role gates, pagination and the batch sparklines."""
from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.permissions import Action, ActionRequiredMixin

from .. import selectors


class AdminRequiredMixin(ActionRequiredMixin):
    """Log in first, then be allowed to manage routing rules (admins)."""

    required_action = Action.MANAGE_ROUTING


class SubthemeDeciderRequiredMixin(ActionRequiredMixin):
    """Log in first, then be allowed to decide sub-themes (leads and admins)."""

    required_action = Action.DECIDE_SUBTHEMES


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
