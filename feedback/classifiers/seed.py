"""Labelled examples: the shipped seed corpus and labelled JSON-lines files."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from feedback.taxonomy import CATEGORY_CODES

SEED_DIR = Path(__file__).resolve().parent / "data" / "seed"
# The *_more.jsonl seed files (566 texts, commit d3ecb33) were written after looking at the errors
# the model made on ../shared/data/complaints_dev.jsonl; the benchmark reports cold start without
# them too. New seed texts must not be written from that file.
DEV_INFORMED_SUFFIX = "_more"

# Where an example came from decides its training weight: real agents' labels
# describe real tickets, the seed corpus only imitates them.
SOURCE_SEED = "seed"
SOURCE_LABEL = "label"


class LabelledDataError(ValueError):
    """A labelled file has a malformed line or an unknown category code."""

    def __init__(self, message: str, *, path: str | None = None, line_number: int | None = None) -> None:
        where = ""
        if path is not None and line_number is not None:
            where = f"{path}, line {line_number}: "
        elif line_number is not None:
            where = f"line {line_number}: "
        super().__init__(where + message)
        self.path = path
        self.line_number = line_number


@dataclass(frozen=True, slots=True)
class LabelledExample:
    """One text with its category, optional product category and where it came from."""

    text: str
    category: str
    product: str = ""
    source: str = SOURCE_LABEL


def parse_labelled_lines(
    lines: Iterable[str],
    *,
    categories: Sequence[str] = CATEGORY_CODES,
    source: str = SOURCE_LABEL,
    path: str | None = None,
) -> list[LabelledExample]:
    """Parse JSON lines of {"text", "category", "product"?}; raise LabelledDataError naming the line."""
    known = set(categories)
    examples: list[LabelledExample] = []
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise LabelledDataError(f"not valid JSON ({error.msg})", path=path, line_number=line_number) from None
        if not isinstance(row, dict):
            raise LabelledDataError("expected a JSON object", path=path, line_number=line_number)
        text, category, product = row.get("text"), row.get("category"), row.get("product") or ""
        if not isinstance(text, str) or not text.strip():
            raise LabelledDataError('missing or empty "text"', path=path, line_number=line_number)
        if not isinstance(category, str) or not category:
            raise LabelledDataError('missing "category"', path=path, line_number=line_number)
        if category not in known:
            raise LabelledDataError(
                f"unknown category code {category!r} (known: {', '.join(sorted(known))})",
                path=path,
                line_number=line_number,
            )
        if not isinstance(product, str):
            raise LabelledDataError('"product" must be a string', path=path, line_number=line_number)
        examples.append(LabelledExample(text=text, category=category, product=product, source=source))
    return examples


def read_labelled_jsonl(
    path: str | Path, *, categories: Sequence[str] = CATEGORY_CODES, source: str = SOURCE_LABEL
) -> list[LabelledExample]:
    """Read a labelled JSON-lines file; raise LabelledDataError naming the bad line."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig") as handle:
            return parse_labelled_lines(handle, categories=categories, source=source, path=str(path))
    except UnicodeDecodeError as error:
        raise LabelledDataError(f"{path}: not UTF-8 text ({error.reason})") from None


def load_seed(
    directory: str | Path = SEED_DIR, *, categories: Sequence[str] = CATEGORY_CODES, include_dev_informed: bool = True
) -> list[LabelledExample]:
    """Load the shipped seed corpus (*.jsonl files; include_dev_informed=False leaves out *_more.jsonl)."""
    examples: list[LabelledExample] = []
    for path in sorted(Path(directory).glob("*.jsonl")):
        if not include_dev_informed and path.stem.endswith(DEV_INFORMED_SUFFIX):
            continue
        examples.extend(read_labelled_jsonl(path, categories=categories, source=SOURCE_SEED))
    if not examples:
        raise FileNotFoundError(f"no seed corpus found in {directory}")
    return examples
