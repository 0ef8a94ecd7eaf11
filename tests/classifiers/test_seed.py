import json

import pytest

from feedback.classifiers import LabelledDataError, load_seed, parse_labelled_lines, read_labelled_jsonl
from feedback.taxonomy import CATEGORY_CODES


def test_seed_corpus_covers_every_category_with_enough_examples():
    seed = load_seed()
    counts = {code: sum(e.category == code for e in seed) for code in CATEGORY_CODES}
    assert min(counts.values()) >= 80, counts


def test_unknown_category_names_the_line(tmp_path):
    path = tmp_path / "labels.jsonl"
    lines = [
        {"text": "快递太慢", "category": "logistics_delay"},
        {"text": "颜色不对", "category": "description_mismatch", "product": "衣服"},
        {"text": "态度差", "category": "rude_staff"},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in lines), encoding="utf-8")
    with pytest.raises(LabelledDataError, match=r"line 3: unknown category code 'rude_staff'") as info:
        read_labelled_jsonl(path)
    assert info.value.line_number == 3
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"category": "price"}', 'missing or empty "text"'),
        ('{"text": "太贵了"}', 'missing "category"'),
        ('{"text": "太贵了", "category": "price", "product": 3}', '"product" must be a string'),
    ],
)
def test_malformed_lines_name_the_line_number(line, message):
    good = '{"text": "快递太慢", "category": "logistics_delay"}'
    with pytest.raises(LabelledDataError, match=rf"line 2: .*{message}"):
        parse_labelled_lines([good, line])


def test_blank_lines_are_skipped_and_products_kept():
    examples = parse_labelled_lines(['{"text": "苹果烂了", "category": "damaged", "product": "水果"}', "", "  "])
    assert [(e.text, e.category, e.product) for e in examples] == [("苹果烂了", "damaged", "水果")]
