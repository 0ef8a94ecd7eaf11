"""Readable sub-theme labels and issue keywords (issues/labels.py), on hand-written complaint texts."""
from __future__ import annotations

import pytest

from issues.labels import clauses, is_label_word, label_words, representative_phrase, theme_label
from issues.models import Issue, SubTheme
from issues.services import issues_keywords_refresh, subthemes_refresh
from tests.issues.conftest import category, make_ticket

# What today's labels were made of: fillers, numbers and English function words.
NOT_WORDS = ["上面", "一层", "收到", "18", "24", "20", "the", "was", "arrived", "24号", "3.5", "100%", "两天",
             "第二次", "三", "东西", "的", "a", "ok", "\ue001"]
WORDS = ["漏液", "瓶盖", "色差", "偏小", "尺码表", "leaking", "swollen", "冷链", "胀袋"]

# Milk cartons: every text says where (上面, 一层), that it arrived (收到) and a number; the theme is 胀袋 / 鼓包.
SWOLLEN = ["收到牛奶上面一层盒子全都胀袋了，18盒鼓包", "今天收到的牛奶，上面一层24盒有6盒胀袋鼓包",
           "收到后发现上面一层牛奶胀袋，20盒里鼓包好几盒", "牛奶胀袋鼓包了，收到的18盒全是这样",
           "上面一层牛奶盒鼓包胀袋，收到就这样，24盒", "收到牛奶胀袋严重，鼓包，20盒都不敢喝"]
SOUR = ["牛奶喝起来是酸的，一层全坏了，24盒", "收到的牛奶有酸味，变质了，18盒", "牛奶发酸变质，上面一层都是这样，20盒",
        "打开一盒牛奶就是酸的，变质了", "牛奶变质有酸味，收到18盒", "牛奶酸了变质，不敢给孩子喝，24盒"]
ENGLISH = ["The box was crushed when it arrived and the bottle was leaking", "It arrived leaking, the cap was cracked",
           "The shampoo was leaking all over the box when it arrived", "Bottle cap cracked, shampoo leaking"]


@pytest.mark.parametrize("word", NOT_WORDS)
def test_stop_words_fillers_numbers_and_single_characters_are_not_label_words(word):
    assert not is_label_word(word)


@pytest.mark.parametrize("word", WORDS)
def test_whole_meaningful_words_are(word):
    assert is_label_word(word)


def test_label_words_keep_the_order_and_drop_repeats():
    assert label_words(["上面", "胀袋", "18", "鼓包", "胀袋", "收到"]) == ["胀袋", "鼓包"]


def test_the_phrase_is_the_shortest_central_clause_with_the_most_top_words():
    assert clauses("收到牛奶，上面一层胀袋了！18盒") == ["收到牛奶", "上面一层胀袋了", "18盒"]
    phrase = representative_phrase(SWOLLEN, ["胀袋", "鼓包", "牛奶"])
    assert phrase == "18盒鼓包" or ("胀袋" in phrase and "鼓包" in phrase), phrase
    assert 4 <= len(phrase) <= 24


def test_an_english_theme_gets_an_english_phrase_not_the_was_arrived():
    words = label_words(["the", "was", "arrived", "leaking", "cap", "cracked", "shampoo"])
    assert words[:2] == ["leaking", "cap"]
    label = theme_label(words, ENGLISH)
    assert "leaking" in label and label.lower() not in {"the / was / arrived"}


def test_without_a_phrase_the_label_is_its_first_three_words():
    assert theme_label(["上面", "胀袋", "18", "鼓包", "冷链"]) == "胀袋 / 鼓包 / 冷链"
    assert theme_label(["上面", "一层", "收到"]) == ""


@pytest.mark.django_db
def test_sub_themes_of_milk_complaints_are_named_by_words_customers_use_not_by_fillers_or_numbers(shampoo):
    for text in SWOLLEN * 2 + SOUR * 2:
        make_ticket(product=shampoo, code="damaged", text=text)

    subthemes_refresh(category_id=category("damaged").pk)
    issues_keywords_refresh()

    themes = list(SubTheme.objects.filter(issue__isnull=True))
    assert len(themes) >= 2
    for theme in themes:
        for word in theme.keywords:
            assert is_label_word(word), (theme.label, theme.keywords)
        assert not any(filler in theme.label.split(" / ") for filler in ("上面", "一层", "收到", "18", "24", "20"))
    labels = " | ".join(t.label for t in themes)
    assert ("胀袋" in labels or "鼓包" in labels) and ("酸" in labels or "变质" in labels), labels
    issue = Issue.objects.get()
    assert issue.keywords and all(is_label_word(word) for word in issue.keywords), issue.keywords


@pytest.mark.django_db
def test_a_spiking_issue_gets_sub_themes_with_fewer_tickets_than_a_quiet_one(settings, shampoo):
    settings.ISSUE_SUBTHEME_MIN_ISSUE_TICKETS = 30
    settings.ISSUE_SUBTHEME_MIN_SPIKING_TICKETS = 12
    for text in SWOLLEN + SOUR + SWOLLEN[:2]:
        make_ticket(product=shampoo, code="damaged", text=text)
    issue = Issue.objects.get()
    Issue.objects.filter(pk=issue.pk).update(count_30d=14, is_spiking=False)

    subthemes_refresh(category_id=category("damaged").pk)
    assert not SubTheme.objects.filter(issue=issue).exists()

    Issue.objects.filter(pk=issue.pk).update(is_spiking=True)
    subthemes_refresh(category_id=category("damaged").pk)
    assert SubTheme.objects.filter(issue=issue).count() >= 1
