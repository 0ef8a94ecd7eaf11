"""Who may change an issue. Pages, the API and the services all ask these functions.

Everyone logged in can read the library. A lead changes only issues of their
own department; admins change any issue; agents and managers only read.
"""
from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import Role


def user_is_admin(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN))


def issue_can_change(user, issue) -> bool:
    """Tell whether ``user`` may change ``issue`` (status, assignee, priority, department, merge)."""
    if not user or not user.is_authenticated:
        return False
    if user_is_admin(user):
        return True
    return user.role == Role.LEAD and user.department_id is not None and user.department_id == issue.department_id


def user_can_manage_routing(user) -> bool:
    """Routing rules and sub-theme promotion are admin work (promotion: leads too)."""
    return user_is_admin(user)


def user_can_decide_subthemes(user) -> bool:
    return user_is_admin(user) or bool(user and user.is_authenticated and user.role == Role.LEAD)


class IssuePermission(BasePermission):
    """API: read for everyone logged in; writes only where issue_can_change allows."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        return user_is_admin(request.user) or request.user.role == Role.LEAD

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return issue_can_change(request.user, obj)
