"""Periodic checks: spikes, overdue SLAs, regressions of resolved issues."""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from ..models import (
    DONE_STATUSES,
    OPEN_STATUSES,
    UNACKNOWLEDGED_STATUSES,
    ActivityVerb,
    Issue,
    IssueActivity,
    IssueStatus,
    NotificationKind,
)
from ..selectors import spiking_issue_ids

logger = logging.getLogger(__name__)


def issues_spikes_detect(*, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """Flag issues whose daily count jumped above their own baseline; return (started, ended).

    A spike holds while today or yesterday meets the threshold (so it does not
    end at midnight), and its department is notified once per spike.
    """
    from .notifications import TranslatableText, notification_create

    now = now or timezone.now()
    today = timezone.localdate(now)
    spiking = spiking_issue_ids(day=today - timedelta(days=1))
    spiking.update(spiking_issue_ids(day=today))
    started: list[int] = []
    candidates = Issue.objects.filter(pk__in=list(spiking), is_spiking=False).exclude(status=IssueStatus.MERGED)
    for issue in candidates.select_related("department", "category"):
        with transaction.atomic():
            # The conditional update is the claim: a second run finds is_spiking already set.
            count, mean = spiking[issue.pk]
            if not Issue.objects.filter(pk=issue.pk, is_spiking=False).update(
                    is_spiking=True, spiking_since=now, spike_ratio=(count / mean) if mean else float(count)):
                continue
            started.append(issue.pk)
            IssueActivity.objects.create(
                issue=issue, verb=ActivityVerb.SPIKING, to_value=str(count),
                note=f"单日 {count} 张工单，前 7 天日均 {mean:.1f} 张", payload={"count": count, "mean": round(mean, 2)},
            )
            if issue.department_id and issue.status not in (IssueStatus.IGNORED,):
                notification_create(
                    kind=NotificationKind.SPIKE,
                    title=TranslatableText("问题激增：%(title)s", title=issue.display_title),
                    body=TranslatableText(
                        "问题 #%(number)s 单日收到 %(count)s 张工单，是前 7 天日均（%(mean).1f）的 %(ratio).1f 倍。",
                        number=issue.pk, count=count, mean=mean, ratio=(count / mean) if mean else float("inf")),
                    department=issue.department,
                    issue=issue,
                    dedupe_key=f"spike:{issue.pk}:{now.isoformat()}",
                    payload={"count": count, "mean": round(mean, 2)},
                )
    ended = list(Issue.objects.filter(is_spiking=True).exclude(pk__in=list(spiking)).values_list("pk", flat=True))
    if ended:
        with transaction.atomic():
            Issue.objects.filter(pk__in=ended, is_spiking=True).update(is_spiking=False, spiking_since=None, spike_ratio=None)
            IssueActivity.objects.bulk_create(
                [IssueActivity(issue_id=issue_id, verb=ActivityVerb.SPIKE_ENDED) for issue_id in ended]
            )
    from .priority import issues_prioritize

    # A spike raises the priority at once, not at the next periodic pass.
    issues_prioritize(issue_ids=started + ended, now=now)
    return started, ended


def overdue_condition(now: datetime) -> Q:
    return Q(status__in=UNACKNOWLEDGED_STATUSES, acknowledge_due_at__lt=now) | Q(
        status__in=OPEN_STATUSES, resolve_due_at__lt=now
    )


def issues_overdue_flag(*, now: datetime | None = None) -> tuple[list[int], int]:
    """Flag issues past their SLA and notify each department's leads once; return (newly overdue, cleared)."""
    from .notifications import TranslatableText, notification_create

    now = now or timezone.now()
    condition = overdue_condition(now)
    newly = list(
        Issue.objects.filter(condition, is_overdue=False).exclude(status=IssueStatus.MERGED).values_list("pk", flat=True)
    )
    flagged: list[int] = []
    for start in range(0, len(newly), 1000):
        chunk = newly[start : start + 1000]
        with transaction.atomic():
            claimed = list(
                Issue.objects.select_for_update().filter(pk__in=chunk, is_overdue=False).values_list("pk", flat=True)
            )
            Issue.objects.filter(pk__in=claimed).update(is_overdue=True, overdue_since=now)
            IssueActivity.objects.bulk_create([IssueActivity(issue_id=i, verb=ActivityVerb.OVERDUE) for i in claimed])
            flagged.extend(claimed)
    cleared = Issue.objects.filter(is_overdue=True).exclude(condition).update(is_overdue=False, overdue_since=None)

    by_department: dict[int, list[Issue]] = defaultdict(list)
    for issue in Issue.objects.filter(pk__in=flagged, department__isnull=False).select_related("department", "category"):
        by_department[issue.department_id].append(issue)
    for issues in by_department.values():
        department = issues[0].department
        issues.sort(key=lambda i: (i.priority, -i.count_7d))

        def lines(language: str, issues: list[Issue] = issues) -> str:
            shown = [gettext("#%(number)s [%(priority)s] %(title)s（%(status)s）") % {
                "number": i.pk, "priority": i.priority, "title": i.display_title(language),
                "status": i.get_status_display()} for i in issues[:20]]
            if len(issues) > 20:
                shown.append(gettext("……另有 %(count)s 个") % {"count": len(issues) - 20})
            return "\n".join(shown)

        notification_create(
            kind=NotificationKind.OVERDUE,
            title=TranslatableText("%(department)s有 %(count)s 个问题超出时限", department=department.display_name,
                                   count=len(issues)),
            body=TranslatableText("%(lines)s", lines=lines),
            department=department,
            issue=issues[0] if len(issues) == 1 else None,
            dedupe_key=f"overdue:{department.pk}:{now.isoformat()}",
            payload={"issue_ids": [i.pk for i in issues]},
        )
    from .priority import issues_prioritize

    issues_prioritize(issue_ids=flagged, now=now)
    return flagged, cleared


def issues_regressions_check(*, now: datetime | None = None) -> list[int]:
    """Check every resolved issue that received tickets after its resolution."""
    from django.db.models import F

    from .workflow import issues_regression_check

    ids = list(
        Issue.objects.filter(status__in=DONE_STATUSES, resolved_at__isnull=False, last_seen_at__gt=F("resolved_at"))
        .values_list("pk", flat=True)
    )
    return issues_regression_check(issue_ids=ids, now=now) if ids else []
