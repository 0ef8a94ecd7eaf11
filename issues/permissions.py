"""The issue library's API permission class; the rules themselves are in accounts/permissions.py.

Everyone logged in reads the library. A lead changes only issues of their own
department; admins change any issue; the team member an issue is assigned to
moves its status and comments on it (WORK_ASSIGNED_ISSUES); managers only read.
"""
from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.permissions import Action, issue_can_change, issue_can_work, user_can, user_is_admin

__all__ = ["IssuePermission", "issue_can_change", "issue_can_work", "user_can_decide_subthemes", "user_can_manage_routing", "user_is_admin"]


def user_can_manage_routing(user) -> bool:
    return user_can(user, Action.MANAGE_ROUTING)


def user_can_decide_subthemes(user) -> bool:
    return user_can(user, Action.DECIDE_SUBTHEMES)


class IssuePermission(BasePermission):
    """API: read for everyone logged in; writes only where issue_can_change allows."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        return user_can(request.user, Action.CHANGE_ISSUES) or user_can(request.user, Action.WORK_ASSIGNED_ISSUES)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if getattr(view, "action", None) in WORK_ACTIONS:
            return issue_can_work(request.user, obj)
        return issue_can_change(request.user, obj)


# API actions the assignee may take on their own issue; everything else needs issue_can_change.
WORK_ACTIONS = frozenset({"status", "comment"})
