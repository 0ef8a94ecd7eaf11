"""The one role policy: who may do what. Pages, the API, services and templates all ask it.

Each action lists the roles allowed to do it; admins (role admin or superuser) may
do everything. Object-level rules (a lead changes only their own department's
issues) are functions here too, so there is one place to read and one to test
(tests/accounts/test_policy.py walks every role against every action).
"""
from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .models import Role


class Action(StrEnum):
    FILE_TICKETS = "file_tickets"
    IMPORT_TICKETS = "import_tickets"
    CORRECT_TICKETS = "correct_tickets"
    SEE_UNMASKED = "see_unmasked"
    IMPORT_SALES = "import_sales"
    CHANGE_ISSUES = "change_issues"  # and only their own department's, for leads
    # Move the status of (and comment on) an issue assigned to you: how a team member works an issue.
    WORK_ASSIGNED_ISSUES = "work_assigned_issues"
    DECIDE_SUBTHEMES = "decide_subthemes"
    MANAGE_ROUTING = "manage_routing"
    MANAGE_MODELS = "manage_models"
    VIEW_MODELS = "view_models"  # the model page, read-only
    MANAGE_PRODUCTS = "manage_products"
    # Add agents to and remove them from a department's team: leads their own department's only.
    MANAGE_TEAM = "manage_team"


# Admins are allowed everything and are not listed.
POLICY: dict[Action, frozenset[str]] = {
    Action.FILE_TICKETS: frozenset({Role.AGENT, Role.LEAD, Role.MANAGER}),
    Action.IMPORT_TICKETS: frozenset({Role.AGENT, Role.LEAD, Role.MANAGER}),
    Action.CORRECT_TICKETS: frozenset({Role.AGENT, Role.LEAD}),
    Action.SEE_UNMASKED: frozenset(),
    Action.IMPORT_SALES: frozenset({Role.MANAGER}),
    Action.CHANGE_ISSUES: frozenset({Role.LEAD}),
    Action.WORK_ASSIGNED_ISSUES: frozenset({Role.AGENT, Role.LEAD}),
    Action.DECIDE_SUBTHEMES: frozenset({Role.LEAD}),
    Action.MANAGE_ROUTING: frozenset(),
    Action.MANAGE_MODELS: frozenset(),
    Action.VIEW_MODELS: frozenset({Role.MANAGER}),
    # The product catalogue (upload page and API): every ticket links to it, so not agents.
    Action.MANAGE_PRODUCTS: frozenset({Role.LEAD, Role.MANAGER}),
    Action.MANAGE_TEAM: frozenset({Role.LEAD}),
}


def user_is_admin(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN))


def user_can(user, action: Action) -> bool:
    """Tell whether ``user`` may do ``action`` at all (object rules come on top)."""
    if not (user and user.is_authenticated):
        return False
    return user_is_admin(user) or user.role in POLICY[action]


def department_can_work(user, department_id: int | None) -> bool:
    """A lead works their own department's issues; admins work every department's."""
    if user_is_admin(user):
        return True
    return user_can(user, Action.CHANGE_ISSUES) and user.department_id is not None and user.department_id == department_id


def team_can_manage(user, department_id: int | None) -> bool:
    """A lead adds agents to and removes them from their own department; admins do it for every department."""
    if department_id is None or not user_can(user, Action.MANAGE_TEAM):
        return False
    return user_is_admin(user) or (user.department_id is not None and user.department_id == department_id)


def issue_can_change(user, issue) -> bool:
    """Tell whether ``user`` may change ``issue`` (status, assignee, priority, department, merge)."""
    return department_can_work(user, issue.department_id)


def issue_can_work(user, issue) -> bool:
    """Tell whether ``user`` may move ``issue``'s status and comment on it: whoever may change it, and
    the team member it is assigned to (who may not reassign, transfer, merge or re-prioritise it)."""
    if issue_can_change(user, issue):
        return True
    return (user_can(user, Action.WORK_ASSIGNED_ISSUES) and issue.assignee_id is not None
            and issue.assignee_id == user.pk)


def home_url_for(user) -> str:
    """Return where ``user`` lands after logging in, where their day starts: agents on the review stream,
    leads with a department on their queue (spikes and overdue issues on top), managers on the impact
    dashboard (措施效果; the library is one click away), admins and everyone else on the home page."""
    from django.urls import reverse

    if not (user and user.is_authenticated) or user_is_admin(user):
        return reverse("home")
    if user.role == Role.AGENT and user_can(user, Action.CORRECT_TICKETS):
        return reverse("review-stream")
    if user.role == Role.LEAD and user.department_id is not None:
        return reverse("department-queue")
    if user.role == Role.MANAGER:
        return reverse("impact-dashboard")
    return reverse("home")


class ActionRequiredMixin(LoginRequiredMixin):
    """Page mixin: log in first, then ``required_action`` must be allowed (403 otherwise)."""

    required_action: Action | None = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.required_action is not None and not user_can(request.user, self.required_action):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ActionPermission(BasePermission):
    """API permission: subclass and set ``action``; ``read_open`` lets everyone logged in read."""

    action: Action
    read_open = False

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if self.read_open and request.method in SAFE_METHODS:
            return True
        return user_can(request.user, self.action)


class CanFileTickets(ActionPermission):
    action = Action.FILE_TICKETS


class CanCorrectTickets(ActionPermission):
    action = Action.CORRECT_TICKETS


class CanManageModels(ActionPermission):
    action = Action.MANAGE_MODELS


class CanManageRouting(ActionPermission):
    action = Action.MANAGE_ROUTING


class CanManageProducts(ActionPermission):
    action = Action.MANAGE_PRODUCTS
