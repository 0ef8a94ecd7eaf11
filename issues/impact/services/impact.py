"""The measured effect of a fix: before/after windows, statistics, verdict, regression.

Windows (W = the issue's override, else ``IMPACT_WINDOW_DAYS``, 14 by default):
before = the W days up to the day before the action date, after = the W days
from the day after it. The action day itself belongs to neither: on that day
the old and the new state are mixed.

States of an IssueImpact:

* measuring: the after window has not closed yet (today <= its last day); the
  interim counts are shown with the days remaining, never a verdict.
* incomplete: the window has closed but the order data does not cover both
  windows (the last imported day is before the window's end, or the first is
  after its start). Re-measured whenever sales arrive; never a false verdict.
* completed: both windows are covered. Complaint rate (the issue's tickets per
  1,000 orders of its scope) and return rate (returns / orders of the scope)
  are judged against controls, untouched comparable products, with day-level
  variation modelled (``measurement``, ``estimation``): the change net of the
  controls, its 95 % interval, p-value and, when nothing is found, the
  smallest change the volumes could have shown. The old pooled tests
  (``stats``) are kept in ``details`` for comparison; each metric says
  "数据不足" when its volumes are too small.

Regression: a completed impact whose metric improved significantly is flagged
``regressed`` when, over the latest W days (after the after window), that rate
rose significantly from its after-window level net of the controls (the same
estimator, controls and interval as the impact itself: a festival's return
wave that lifts the whole category is no regression) and the rise undoes the
improvement: (1 + impact change) x (1 + rise) > 1, i.e. back above the
before-window baseline relative to the controls.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone

from issues.models import Issue, NotificationKind

from .. import verdicts
from ..conf import impact_setting
from ..measurement import MEASURABLE_STATUSES, Measurement, Target, between_series, change_measure, metric_estimate
from ..models import DailySales, ImpactStatus, IssueImpact, Outcome
from ..estimation import METHOD_DID
from ..scopes import issue_scopes, issue_totals, scope_label
from ..stats import compare_proportions, compare_rates

logger = logging.getLogger(__name__)

# MEASURABLE_STATUSES (issues resolved with an action) lives in ``measurement``; imported here for the selectors.


@dataclass(frozen=True)
class Windows:
    before_start: date
    before_end: date
    after_start: date
    after_end: date


def impact_windows(*, action_date: date, window_days: int) -> Windows:
    """Return the before and after windows of a fix applied on ``action_date``."""
    return Windows(
        before_start=action_date - timedelta(days=window_days),
        before_end=action_date - timedelta(days=1),
        after_start=action_date + timedelta(days=1),
        after_end=action_date + timedelta(days=window_days),
    )


def sales_horizon() -> tuple[date | None, date | None]:
    """First and last day of imported order data (the range a verdict may rely on)."""
    bounds = DailySales.objects.aggregate(first=Min("day"), last=Max("day"))
    return bounds["first"], bounds["last"]


def window_totals(*, issue: Issue, start: date, end: date) -> dict[str, int]:
    """Orders and returns of the issue's scopes and its tickets in [start, end] (zeros when none)."""
    return issue_totals(issue, start=start, end=end)


def _metric_outcome(comparison) -> str:
    if not comparison.enough_data:
        return Outcome.INSUFFICIENT
    if not comparison.significant or not comparison.relative_change:
        return Outcome.NO_EFFECT
    return Outcome.IMPROVED if comparison.relative_change < 0 else Outcome.WORSENED


def _overall(complaint, returns) -> tuple[str, float | None]:
    """The overall outcome and the effect that ranks fixes (most negative = best)."""
    outcomes = {_metric_outcome(complaint), _metric_outcome(returns)}
    significant = [c.relative_change for c in (complaint, returns) if c.significant and c.relative_change]
    if outcomes == {Outcome.INSUFFICIENT}:
        return Outcome.INSUFFICIENT, None
    if Outcome.IMPROVED in outcomes and Outcome.WORSENED in outcomes:
        return Outcome.MIXED, complaint.relative_change
    if Outcome.IMPROVED in outcomes:
        return Outcome.IMPROVED, min(significant)
    if Outcome.WORSENED in outcomes:
        return Outcome.WORSENED, max(significant)
    return Outcome.NO_EFFECT, 0.0


def _window_override(issue: Issue, action_date: date, window_days: int | None) -> int | None:
    if window_days:
        return window_days
    overrides = IssueImpact.objects.filter(issue=issue, window_days_override__isnull=False)
    same = overrides.filter(action_date=action_date).values_list("window_days_override", flat=True).first()
    if same:
        return same
    # A new resolution of the same issue keeps the window its lead chose before.
    return overrides.order_by("-action_date").values_list("window_days_override", flat=True).first()


def impact_measure(*, issue_id: int, today: date | None = None, window_days: int | None = None) -> IssueImpact | None:
    """Create or refresh the IssueImpact of an issue's latest resolution; None if it has no action date.

    ``window_days`` sets (and stores) a per-issue window override; without it the
    issue keeps any override set before, else ``IMPACT_WINDOW_DAYS`` applies.
    Reads the materialised metrics only, so it is cheap: call it again whenever
    data changes. Safe to repeat.
    """
    issue = Issue.objects.filter(pk=issue_id).first()
    if issue is None or issue.action_date is None or issue.status not in MEASURABLE_STATUSES:
        return None
    if window_days is not None and not 1 <= window_days <= 365:
        raise ValueError("window_days must be between 1 and 365")
    today = today or timezone.localdate()
    override = _window_override(issue, issue.action_date, window_days)
    width = override or impact_setting("IMPACT_WINDOW_DAYS")
    windows = impact_windows(action_date=issue.action_date, window_days=width)
    scopes = issue_scopes([issue])[issue.pk]
    before = issue_totals(issue, start=windows.before_start, end=windows.before_end, scopes=scopes)
    after = issue_totals(issue, start=windows.after_start, end=windows.after_end, scopes=scopes)
    first_day, last_day = sales_horizon()

    values: dict = {
        "action": issue.action_taken or "",
        "window_days": width,
        "window_days_override": override,
        "scope_label": scope_label(scopes),
        "before_start": windows.before_start,
        "before_end": windows.before_end,
        "after_start": windows.after_start,
        "after_end": windows.after_end,
        "orders_before": before["orders"], "orders_after": after["orders"],
        "returns_before": before["returns"], "returns_after": after["returns"],
        "tickets_before": before["tickets"], "tickets_after": after["tickets"],
        "measured_at": timezone.now(),
    }
    complaint = compare_rates(before["tickets"], before["orders"], after["tickets"], after["orders"], per=1000)
    returns = compare_proportions(before["returns"], before["orders"], after["returns"], after["orders"])
    rates = {
        "complaint_rate_before": complaint.before_rate, "complaint_rate_after": complaint.after_rate,
        "return_rate_before": returns.before_rate, "return_rate_after": returns.after_rate,
    }
    cleared = {
        "complaint_rate_change": None, "complaint_rate_p_value": None, "return_rate_change": None,
        "return_rate_p_value": None, "complaint_rate_ci_low": None, "complaint_rate_ci_high": None,
        "return_rate_ci_low": None, "return_rate_ci_high": None, "method": "", "controls": {}, "details": {}, "complaint_outcome": Outcome.PENDING, "return_outcome": Outcome.PENDING,
        "outcome": Outcome.PENDING, "effect": None,
    }

    if today <= windows.after_end:
        days_left = (windows.after_end - today).days + 1
        values.update(rates, **cleared, status=ImpactStatus.MEASURING,
                      verdict_zh=verdicts.measuring_verdict(days_left, language="zh"),
                      verdict_en=verdicts.measuring_verdict(days_left, language="en"))
    elif last_day is None or last_day < windows.after_end or first_day > windows.before_start:
        # Rates over a partly covered window are shown, but no change, p-value or verdict.
        arguments = {
            "needed_until": windows.after_end.isoformat(),
            "data_until": last_day.isoformat() if last_day else None,
            "needed_from": windows.before_start.isoformat(),
            "data_from": first_day.isoformat() if first_day else None,
        }
        values.update(rates, **cleared, status=ImpactStatus.INCOMPLETE,
                      verdict_zh=verdicts.incomplete_verdict(language="zh", **arguments),
                      verdict_en=verdicts.incomplete_verdict(language="en", **arguments))
    else:
        measurement = change_measure(target=Target.from_scopes(scopes), action_date=issue.action_date,
                                     window_days=width, issue_id=issue.pk)
        values.update(rates, **measured_values(measurement))
    try:
        with transaction.atomic():
            impact, _ = IssueImpact.objects.update_or_create(
                issue=issue, action_date=issue.action_date, defaults=values
            )
    except IntegrityError:  # a concurrent measurement created it first: update it
        impact = IssueImpact.objects.get(issue=issue, action_date=issue.action_date)
        IssueImpact.objects.filter(pk=impact.pk).update(**values)
        impact.refresh_from_db()
    return impact


def measured_values(measurement: Measurement) -> dict:
    """The IssueImpact fields of a completed controlled measurement."""
    complaint, returns = measurement.complaints.estimate, measurement.returns.estimate
    outcome, effect = _overall(complaint, returns)
    details: dict = {"festivals": [{"name_zh": f.name_zh, "name_en": f.name_en, "start": f.start.isoformat(),
                                    "end": f.end.isoformat()} for f in measurement.festivals]}
    for metric, result in (("complaint_rate", measurement.complaints), ("return_rate", measurement.returns)):
        estimate, plain = result.estimate, result.plain
        details[metric] = {
            "method": estimate.method, "mde": estimate.mde, "dispersion": estimate.dispersion,
            "control_change": estimate.control_change, "plain_change": plain.relative_change,
            "plain_p_value": plain.p_value, "plain_significant": plain.significant,
        }
        for language in ("zh", "en"):
            details[metric][f"explanation_{language}"] = verdicts.disagreement_text(
                metric, result, controls_label=measurement.controls.label(language), language=language)
    return {
        "status": ImpactStatus.COMPLETED,
        "method": measurement.method,
        "controls": measurement.controls.as_dict(),
        "complaint_rate_change": complaint.relative_change, "complaint_rate_p_value": complaint.p_value,
        "complaint_rate_ci_low": complaint.ci_low, "complaint_rate_ci_high": complaint.ci_high,
        "return_rate_change": returns.relative_change, "return_rate_p_value": returns.p_value,
        "return_rate_ci_low": returns.ci_low, "return_rate_ci_high": returns.ci_high,
        "complaint_outcome": _metric_outcome(complaint), "return_outcome": _metric_outcome(returns),
        "outcome": outcome, "effect": effect, "details": details,
        "verdict_zh": measurement.verdict("zh"), "verdict_en": measurement.verdict("en"),
    }


def impacts_sync(*, today: date | None = None) -> list[int]:
    """Measure every resolved issue whose latest resolution has no impact yet or is not completed.

    Completes measurements whose after window has closed (the "measuring ->
    completed" step) and retries incomplete ones; returns the impact ids touched.
    """
    today = today or timezone.localdate()
    resolved = Issue.objects.filter(status__in=MEASURABLE_STATUSES, action_date__isnull=False)
    done = set(
        IssueImpact.objects.filter(status=ImpactStatus.COMPLETED).values_list("issue_id", "action_date")
    )
    touched = []
    for issue_id, action_date in resolved.values_list("id", "action_date").iterator(chunk_size=2000):
        if (issue_id, action_date) in done:
            continue
        impact = impact_measure(issue_id=issue_id, today=today)
        if impact is not None:
            touched.append(impact.pk)
    return touched


def impacts_remeasure(*, start: date, end: date, today: date | None = None) -> list[int]:
    """Re-measure impacts whose windows overlap [start, end] (after new sales or tickets for those days)."""
    affected = IssueImpact.objects.filter(before_start__lte=end, after_end__gte=start).values_list(
        "issue_id", "action_date"
    )
    touched = []
    current = dict(Issue.objects.filter(pk__in=[i for i, _ in affected]).values_list("id", "action_date"))
    for issue_id, action_date in affected:
        if current.get(issue_id) != action_date:
            continue  # an older resolution: its numbers stay as measured
        impact = impact_measure(issue_id=issue_id, today=today)
        if impact is not None:
            touched.append(impact.pk)
    return touched


def impacts_regression_check(*, today: date | None = None) -> list[int]:
    """Flag completed improvements whose rate climbed back above the old baseline; return impacts flagged."""
    today = today or timezone.localdate()
    _, last_day = sales_horizon()
    if last_day is None:
        return []
    flagged = []
    candidates = IssueImpact.objects.filter(
        status=ImpactStatus.COMPLETED, regressed=False, outcome__in=[Outcome.IMPROVED, Outcome.MIXED]
    ).select_related("issue", "issue__department")
    for impact in candidates:
        end = min(today - timedelta(days=1), last_day)
        start = end - timedelta(days=impact.window_days - 1)
        if start <= impact.after_end:
            continue  # no full window after the measurement yet
        series = between_series(target=Target.from_scopes(issue_scopes([impact.issue])[impact.issue_id]),
                                first=(impact.after_start, impact.after_end), second=(start, end),
                                issue_id=impact.issue_id)
        notes = []
        for metric, column, outcome, change, before in (
            ("complaint_rate", 2, impact.complaint_outcome, impact.complaint_rate_change, impact.complaint_rate_before),
            ("return_rate", 1, impact.return_outcome, impact.return_rate_change, impact.return_rate_before),
        ):
            if outcome != Outcome.IMPROVED or change is None or before is None:
                continue
            rise = metric_estimate(series, column=column).estimate
            if not rise.significant or rise.relative_change is None or rise.relative_change <= 0:
                continue
            if (1 + change) * (1 + rise.relative_change) <= 1:
                continue  # up again, but not back to where it was before the fix (net of the controls)
            now = rise.after_rate * (1000 if metric == "complaint_rate" else 1) if rise.after_rate is not None else None
            notes.append((metric, before, now, rise, series.controls))
        if not notes:
            continue
        text = "；".join(
            f"{'投诉率' if metric == 'complaint_rate' else '退货率'}回升到 {verdicts.rate_text(metric, now)}，"
            f"高于措施前的 {verdicts.rate_text(metric, was)}（{start} 至 {end}；"
            f"{verdicts.regression_text(rise, controls.label('zh'), controlled=rise.method == METHOD_DID)}）"
            for metric, was, now, rise, controls in notes
        )
        claimed = IssueImpact.objects.filter(pk=impact.pk, regressed=False).update(
            regressed=True, regressed_at=timezone.now(), regression_note=text
        )
        if not claimed:
            continue
        flagged.append(impact.pk)
        _notify_regression(impact, notes, start, end)
    return flagged


def _notify_regression(impact: IssueImpact, notes: list, start, end) -> None:
    issue = impact.issue
    if issue.department_id is None:
        return
    from django.utils.translation import gettext, pgettext

    from issues.services.notifications import TranslatableText, notification_create

    def change(language: str) -> str:
        return gettext("；").join(
            gettext("%(metric)s回升到 %(now)s，高于措施前的 %(was)s（%(start)s 至 %(end)s）") % {
                "metric": pgettext("in a sentence", "投诉率") if metric == "complaint_rate"
                else pgettext("in a sentence", "退货率"),
                "now": verdicts.rate_text(metric, now), "was": verdicts.rate_text(metric, was),
                "start": start, "end": end}
            for metric, was, now, *_ in notes
        )

    notification_create(
        kind=NotificationKind.REGRESSED,
        title=TranslatableText("措施效果回退：%(title)s", title=issue.display_title),
        body=TranslatableText("问题 #%(number)s 于 %(day)s 采取的措施「%(action)s」之后，%(change)s。",
                              number=issue.pk, day=str(impact.action_date), action=impact.action, change=change),
        department=issue.department,
        issue=issue,
        dedupe_key=f"impact-regressed:{impact.pk}",
        payload={"impact_id": impact.pk},
    )
