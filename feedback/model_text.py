"""The model's own words, in the reader's language.

The classifier package is plain Python and writes its gate decision in English (logs, metadata.json,
the training run's row). Pages show it through :func:`gate_reason_text`, which recognises each
sentence the package and the training services write and translates it with its figures; anything
else (an error's own message) is shown as it is, after a translated lead-in where one is known.
"""
from __future__ import annotations

import re

from django.utils.translation import gettext

_COMPARISON = r"macro-F1 (?P<candidate>[\d.]+) vs active (?P<active>\S+) (?P<active_f1>[\d.]+) on (?P<size>\d+) held-out examples"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^passed the gate: {_COMPARISON}$"), "passed"),
    (re.compile(rf"^failed the gate but forced: {_COMPARISON}$"), "forced"),
    (re.compile(rf"^kept the active model: {_COMPARISON}$"), "kept"),
    (re.compile(r"^no active model: activated$"), "first"),
    (re.compile(r"^active model (?P<active>\S+) unreadable \((?P<error>.*)\): activated$", re.S), "unreadable"),
    (re.compile(r"^no held-out examples unseen by the active model: activated$"), "no_heldout"),
    (re.compile(r"^the message broker is unavailable: the training was not submitted$"), "broker"),
    (re.compile(r"^no progress reported for over half an hour: the worker stopped$"), "stale"),
]


def gate_reason_text(reason: str | None) -> str:
    """Return ``reason`` (an English gate decision or run outcome) in the active language."""
    reason = (reason or "").strip()
    for pattern, kind in _PATTERNS:
        match = pattern.match(reason)
        if match is None:
            continue
        values = match.groupdict()
        if kind == "passed":
            return gettext("通过门槛：宏平均 F1 %(candidate)s，启用中的 %(active)s 为 %(active_f1)s（%(size)s 条留出样本）") % values
        if kind == "forced":
            return gettext("未通过门槛但强制启用：宏平均 F1 %(candidate)s，启用中的 %(active)s 为 %(active_f1)s（%(size)s 条留出样本）") % values
        if kind == "kept":
            return gettext("保留启用中的模型：宏平均 F1 %(candidate)s，低于启用中的 %(active)s 的 %(active_f1)s（%(size)s 条留出样本）") % values
        if kind == "first":
            return gettext("此前没有启用的模型：直接启用")
        if kind == "unreadable":
            return gettext("启用中的模型 %(active)s 无法读取（%(error)s）：直接启用") % values
        if kind == "no_heldout":
            return gettext("没有启用中模型未见过的留出样本：直接启用")
        if kind == "broker":
            return gettext("消息队列不可用，训练任务没有提交")
        return gettext("超过半小时没有进度：执行训练的进程已停止")
    return reason
