"""A department's team: a lead adds agents to it and removes them from it (admins for every department).

Who may do it is the one policy's ``team_can_manage``; the service checks it itself, so a page and any
later API cannot drift. Removing an agent who still holds open issues is refused, naming the issues:
nothing stays assigned to someone who can no longer see the queue, and nothing is unassigned silently.
"""
from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext

from accounts.models import Role
from accounts.permissions import team_can_manage

from ..models import OPEN_STATUSES, Department, Issue

logger = logging.getLogger(__name__)


class TeamChangeError(ValueError):
    """The team change is not allowed for this person; the message says why, in the active language."""


def department_member_add(*, department: Department, user, actor) -> None:
    """Make ``user`` (an active agent in no department) a member of ``department``.

    Raise PermissionDenied if ``actor`` may not manage this team, TeamChangeError if ``user`` cannot join.
    """
    if not team_can_manage(actor, department.pk):
        raise PermissionDenied
    from accounts.models import User

    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=user.pk)
        if person.department_id == department.pk:
            raise TeamChangeError(gettext("%(name)s 已经是本部门成员。") % {"name": person.get_username()})
        if not person.is_active or person.role != Role.AGENT:
            raise TeamChangeError(gettext("只能添加在职的客服专员。"))
        if person.department_id is not None:
            # Taking someone from another team is that team's lead's decision: they remove them first.
            raise TeamChangeError(gettext("%(name)s 属于其他部门，需先由该部门移出。") % {"name": person.get_username()})
        person.department = department
        person.save(update_fields=["department"])
    logger.info("team %s: %s added by %s", department.code, person.get_username(), actor.get_username())


def department_member_remove(*, department: Department, user, actor) -> None:
    """Take ``user`` (an agent) out of ``department``'s team.

    Raise PermissionDenied if ``actor`` may not manage this team, TeamChangeError if ``user`` is not an
    agent of it or still holds open issues (which the message lists, to be reassigned first).
    """
    if not team_can_manage(actor, department.pk):
        raise PermissionDenied
    from accounts.models import User

    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=user.pk)
        if person.department_id != department.pk:
            raise TeamChangeError(gettext("%(name)s 不是本部门成员。") % {"name": person.get_username()})
        if person.role != Role.AGENT:
            raise TeamChangeError(gettext("这里只能移出客服专员；负责人由管理员在后台调整。"))
        held = list(Issue.objects.filter(assignee=person, status__in=OPEN_STATUSES).order_by("pk")
                    .values_list("pk", flat=True))
        if held:
            numbers = gettext("、").join(f"#{pk}" for pk in held[:10]) + ("…" if len(held) > 10 else "")
            raise TeamChangeError(gettext(
                "%(name)s 还有 %(count)s 个未关闭的问题（%(issues)s），请先改派给其他成员再移出。"
            ) % {"name": person.get_username(), "count": len(held), "issues": numbers})
        person.department = None
        person.save(update_fields=["department"])
    logger.info("team %s: %s removed by %s", department.code, person.get_username(), actor.get_username())
