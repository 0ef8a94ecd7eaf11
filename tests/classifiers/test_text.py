import pytest

from feedback.classifiers.text import (
    NEGATORS,
    ORDER,
    PHONE,
    TRACKING,
    URL,
    char_ngram_code,
    char_ngram_codes,
    char_ngram_text,
    char_ngrams,
    has_content,
    mask_phone_numbers,
    normalize,
    prepare,
    stop_words,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３，质量差！", "abc123,质量差!"),  # full-width letters, digits and punctuation
        ("蘋果不新鮮，快遞太慢", "苹果不新鲜,快递太慢"),  # traditional to simplified
        ("太差了！！！！！？？？", "太差了!?"),  # repeated punctuation collapses
        ("好好好好好", "好好"),  # drawn-out characters collapse
        ("气死了😡😡👎", "气死了"),  # emoji dropped
    ],
)
def test_normalize_folds_width_script_punctuation_and_emoji(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "placeholder"),
    [
        ("订单号：2023112712345678901 还没发货", ORDER),
        ("订单 88812345 没到", ORDER),
        ("打我电话13812345678", PHONE),
        ("电话 +86 138-1234-5678 找我", PHONE),
        ("座机010-62345678", PHONE),
        ("已脱敏的138****5678", PHONE),
        ("顺丰SF1234567890123一直不动", TRACKING),
        ("运单号：773012345678901", TRACKING),
        ("看这里 https://item.jd.com/100012.html 的描述", URL),
    ],
)
def test_normalize_masks_numbers_and_links(raw, placeholder):
    normalized = normalize(raw)
    assert placeholder in normalized
    assert not any(ch.isdigit() for ch in normalized.replace("86", "")), normalized


def test_masked_placeholders_are_single_tokens():
    words = prepare("订单号1234567890123，电话13812345678").words
    assert ORDER in words and PHONE in words


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("电话13812345678", "电话138****5678"),
        ("+86 138-1234-5678", "+86 138****5678"),
        ("订单号1234567890123456789", "订单号1234567890123456789"),  # not a phone number
    ],
)
def test_mask_phone_numbers_keeps_first_three_and_last_four(raw, expected):
    assert mask_phone_numbers(raw) == expected


def test_negation_is_merged_with_the_negated_word():
    words = prepare("苹果不新鲜，也不太甜，没有收到赠品").words
    assert "不新鲜" in words
    assert "新鲜" not in words
    assert "不甜" in words  # the degree word 太 between negator and word is skipped
    assert any(w.startswith("没有") and len(w) > 2 for w in words)


def test_negators_are_never_stop_words():
    assert not NEGATORS & stop_words()
    assert {"不", "没", "没有", "无", "未", "别"} <= NEGATORS
    assert "的" in stop_words()


@pytest.mark.parametrize("term", ["顺丰", "色差", "漏液", "保价", "少发", "发错", "驿站", "翻新机", "缺斤少两"])
def test_user_dictionary_keeps_ecommerce_terms_whole(term):
    assert term in prepare(f"这次{term}的问题太气人了").words


def test_empty_after_normalisation_has_no_content():
    for raw in ["", "   ", "😡😡😡", "！！！？？？", "。。。……"]:
        prepared = prepare(raw)
        assert prepared.empty and not has_content(prepared.normalized)


def test_char_ngrams_stay_inside_clauses():
    grams = char_ngrams("太慢,没到")
    assert "太慢" in grams and "慢没" not in grams and "没到" in grams


def test_char_ngram_codes_are_the_char_ngrams_of_each_text_in_a_batch():
    from collections import Counter

    texts = [
        normalize(raw)
        for raw in [
            "太慢,没到", "", "😡😡", "快递单号SF1234567890查不到！！订单号123456789012",
            "The parcel arrived broken", "手機用了兩天就死機", "a", "漏液漏液漏液漏液", "http://x.com 看看",
            "坏了\ud800坏了",  # a lone surrogate from a broken export: skipped like any other non-segment character
        ]
    ]
    codes, owners = char_ngram_codes(texts)
    found = [Counter() for _ in texts]
    for code, owner in zip(codes.tolist(), owners.tolist()):
        found[owner][char_ngram_text(code)] += 1
    assert found == [Counter(char_ngrams(text)) for text in texts]
    # No n-gram spans two texts of the batch.
    assert "到a" not in found[5] and not found[1]


def test_char_ngram_codes_round_trip_and_keep_sizes_apart():
    for gram in ["漏", "漏液", "不新鲜", "a", "ab", "abc", URL, URL + "a"]:
        assert char_ngram_text(char_ngram_code(gram)) == gram
    assert char_ngram_code("鲜") < char_ngram_code("0a") < char_ngram_code("00a")
