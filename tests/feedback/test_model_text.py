"""The model gate's English decisions, shown on the model page in the reader's language."""
import pytest
from django.utils import translation

from feedback.model_text import gate_reason_text

COMPARISON = "macro-F1 0.7123 vs active 20261201T020000-ab12 0.7001 on 407 held-out examples"


@pytest.mark.parametrize(("reason", "chinese", "english"), [
    (f"passed the gate: {COMPARISON}",
     "通过门槛：宏平均 F1 0.7123，启用中的 20261201T020000-ab12 为 0.7001（407 条留出样本）",
     "Passed the gate: macro-F1 0.7123 against 0.7001 for the active 20261201T020000-ab12 (407 held-out examples)"),
    (f"failed the gate but forced: {COMPARISON}", "未通过门槛但强制启用：宏平均 F1 0.7123", "Failed the gate but activated by force"),
    (f"kept the active model: {COMPARISON}", "保留启用中的模型：宏平均 F1 0.7123，低于启用中的", "Kept the active model: macro-F1 0.7123"),
    ("no active model: activated", "此前没有启用的模型：直接启用", "No model was active: activated"),
    ("active model v3 unreadable (bad zip): activated", "启用中的模型 v3 无法读取（bad zip）：直接启用",
     "The active model v3 could not be read (bad zip): activated"),
    ("no held-out examples unseen by the active model: activated", "没有启用中模型未见过的留出样本", "No held-out examples"),
    ("the message broker is unavailable: the training was not submitted", "消息队列不可用", "The message broker is unavailable"),
    ("no progress reported for over half an hour: the worker stopped", "超过半小时没有进度", "No progress for over half an hour"),
])
def test_each_gate_sentence_reads_in_both_languages(reason, chinese, english):
    with translation.override("zh-hans"):
        assert gate_reason_text(reason).startswith(chinese)
    with translation.override("en"):
        assert gate_reason_text(reason).startswith(english)


@pytest.mark.parametrize("reason", ["ValueError: could not convert string", "", None])
def test_anything_else_is_shown_as_written(reason):
    with translation.override("zh-hans"):
        assert gate_reason_text(reason) == (reason or "")
