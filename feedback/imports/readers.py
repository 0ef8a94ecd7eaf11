"""Stream the rows of a CSV or XLSX export without loading the whole file.

``table_open(path)`` decides the format from the file's content (an XLSX is a
zip holding ``xl/workbook.xml``; anything else must be text), works out a
CSV's encoding, and yields ``(row_number, cells)`` pairs where ``row_number``
is the row as a spreadsheet program shows it (the first line is row 1).

CSV encodings are tried in this order, each over the whole file so a bad byte
on line 90,000 is caught before anything is imported:

1. a UTF-8 byte-order mark (``utf-8-sig``, what Excel's "CSV UTF-8" writes) or
   a UTF-16 one (Excel's "Unicode text", tab-separated);
2. strict UTF-8;
3. GB18030, a superset of GBK and GB2312 (what Excel on Chinese Windows and
   most Chinese platform back offices write), but only if the text it gives is
   plausible Chinese (see ``_plausibility``);
4. Big5-HKSCS (Hong Kong and Taiwan exports) and Shift-JIS (cp932), under the
   same plausibility test;
5. charset-normalizer's guess, as a last resort.

GB18030 accepts most byte sequences, so a Big5 or Shift-JIS file decodes
"successfully" as GB18030 into rare characters, kana and box-drawing symbols.
The plausibility test catches that; a file no encoding reads plausibly is
refused, never imported as mojibake.

Every error that stops the file as a whole is an :class:`ImportFileError` whose
message says what is wrong in Chinese, then in English.
"""
from __future__ import annotations
from django.utils.translation import gettext, gettext_lazy

import codecs
import csv
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

SUPPORTED_FORMATS = gettext_lazy("CSV（UTF-8、UTF-8 BOM、GB18030/GBK 编码）或 XLSX")

SAMPLE_BYTES = 256 * 1024
CHUNK_BYTES = 1024 * 1024
# Guards against a zip bomb: a small upload that inflates into gigabytes of sheet XML. Checked by
# actually inflating each member in chunks (the sizes a zip declares can lie), before openpyxl runs.
XLSX_MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024
XLSX_MAX_MEMBER_BYTES = 1024 * 1024 * 1024
# openpyxl holds the shared-strings part in memory even in read-only mode.
XLSX_MAX_SHARED_STRINGS_BYTES = 100 * 1024 * 1024
# Real sheet XML compresses 5-30x; whitespace padding or a bomb compresses 1,000x and more.
XLSX_MAX_RATIO = 200
XLSX_RATIO_FLOOR_BYTES = 10 * 1024 * 1024  # small parts (styles) may compress better; harmless
INFLATE_CHUNK_BYTES = 64 * 1024
# Chinese text decoded with the right codec is mostly common ideographs; below this share it is mojibake.
MIN_PLAUSIBILITY = 0.9
FALLBACK_ENCODINGS = ("big5hkscs", "cp932")
ENCODING_NAMES = {"big5hkscs": "Big5-HKSCS（繁体中文）", "cp932": "Shift-JIS（日文）", "gb18030": "GB18030/GBK"}
SHEET_PROBE_ROWS = 15
TEXT_EXTENSIONS = {".csv", ".txt", ".tsv", ""}
CSV_DELIMITERS = (",", "\t", ";", "|")
# A text cell may be long (ticket text is refused past 5,000 characters row by
# row); the csv module's default 128 KiB limit would stop the whole file instead.
csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))

# (leading bytes, what the file is) for binary formats people upload by mistake.
_SIGNATURES: tuple[tuple[bytes, Any], ...] = (
    (b"%PDF", "PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", gettext_lazy("旧版 Office 文件 (.xls/.doc)，请在 Excel 中另存为 XLSX")),
    (b"\x89PNG", gettext_lazy("PNG 图片")),
    (b"\xff\xd8\xff", gettext_lazy("JPEG 图片")),
    (b"GIF8", gettext_lazy("GIF 图片")),
    (b"\x1f\x8b", gettext_lazy("gzip 压缩包")),
    (b"Rar!", gettext_lazy("RAR 压缩包")),
    (b"7z\xbc\xaf\x27\x1c", gettext_lazy("7z 压缩包")),
)


class ImportFileError(Exception):
    """The file as a whole cannot be imported (nothing of it was read into the database)."""


class UnsupportedFormatError(ImportFileError):
    def __init__(self, what: str):
        super().__init__(gettext("不支持的文件格式：%(what)s。请上传 %(formats)s") % {
            "what": what, "formats": SUPPORTED_FORMATS})


class NotTextCSVError(ImportFileError):
    def __init__(self, detail: str = ""):
        suffix = gettext("：%(detail)s") % {"detail": detail} if detail else ""
        super().__init__(gettext("文件不是有效的 CSV 文本%(detail)s。请上传 %(formats)s") % {
            "detail": suffix, "formats": SUPPORTED_FORMATS})


@dataclass
class Table:
    """An open file: its rows as a stream, plus what was learnt while opening it."""

    format: str  # "csv" or "xlsx"
    rows: Iterator[tuple[int, list[Any]]]
    encoding: str | None = None
    sheet_name: str | None = None
    sheet_names: list[str] = field(default_factory=list)
    # Rows in the file including the header, when known cheaply (CSV: lines;
    # XLSX: the sheet's declared dimension). Only for the progress bar.
    estimated_rows: int | None = None
    warnings: list[str] = field(default_factory=list)
    _closers: list = field(default_factory=list, repr=False)

    def close(self) -> None:
        for closer in self._closers:
            closer()
        self._closers.clear()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def table_open(path: str | Path, *, sheet_name: str | None = None, sheet_scorer=None) -> Table:
    """Open a CSV or XLSX file for streaming; raise ImportFileError if it cannot be read at all.

    For a workbook, ``sheet_name`` picks the sheet; otherwise ``sheet_scorer``
    (called with each sheet's first rows, returning a comparable score) picks the
    sheet that looks most like the data, the active sheet on a tie.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(gettext("文件不存在：%(path)s") % {"path": path})
    kind = format_detect(path)
    if kind == "xlsx":
        return _xlsx_open(path, sheet_name=sheet_name, sheet_scorer=sheet_scorer)
    try:
        return _csv_open(path)
    except NotTextCSVError:
        if path.suffix.lower() in TEXT_EXTENSIONS:
            raise
        # A binary file that does not call itself CSV: say the format is wrong, not the CSV.
        raise UnsupportedFormatError(f"{path.suffix.lower()} 文件 ({path.suffix.lower()} file)") from None


def format_detect(path: str | Path) -> str:
    """Return "xlsx" or "csv" from the file's content; raise for any other format."""
    with open(path, "rb") as stream:
        head = stream.read(8)
    if not head:
        raise ImportFileError(gettext("文件是空的"))
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            raise ImportFileError(
                gettext("XLSX 文件已损坏（不是完整的 zip 压缩包），请重新导出或在 Excel 中另存为 XLSX")
            ) from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "word/document.xml" in names:
            raise UnsupportedFormatError("Word 文档 (.docx)")
        if "ppt/presentation.xml" in names:
            raise UnsupportedFormatError("PowerPoint 演示文稿 (.pptx)")
        if "content.xml" in names:
            raise UnsupportedFormatError(gettext("OpenDocument 文件 (.ods/.odt)，请另存为 XLSX"))
        raise UnsupportedFormatError(gettext("ZIP 压缩包"))
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise UnsupportedFormatError(what)
    return "csv"


# --- CSV ---


@dataclass
class _Scan:
    newlines: int
    ends_with_newline: bool
    error_line: int | None = None  # line of the first undecodable byte
    error_offset: int = 0  # its byte offset
    decoded_non_ascii: bool = False  # real non-ASCII text decoded before the error


def _scan(path: Path, encoding: str, errors: str = "strict") -> _Scan:
    """Decode the whole file in chunks, counting lines and noting the first undecodable byte."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    newlines = offset = 0
    last = ""
    non_ascii = False
    with open(path, "rb") as stream:
        try:
            while chunk := stream.read(CHUNK_BYTES):
                text = decoder.decode(chunk)
                if "\x00" in text:
                    raise NotTextCSVError(gettext("含有 NUL 字节"))
                newlines += text.count("\n")
                non_ascii = non_ascii or not text.isascii()
                offset += len(chunk)
                if text:
                    last = text[-1]
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            consumed = exc.object[: exc.start]
            return _Scan(
                newlines=newlines,
                ends_with_newline=False,
                error_line=newlines + consumed.count(b"\n") + 1,
                error_offset=offset + exc.start,
                decoded_non_ascii=non_ascii or not consumed.isascii(),
            )
    if tail:
        last = tail[-1]
    return _Scan(newlines=newlines, ends_with_newline=last in "\r\n")


def _looks_binary(sample: str) -> bool:
    if not sample:
        return False
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n\f")
    return controls > max(2, len(sample) // 100)


def _damaged_but_readable(encoding: str, scan: _Scan, sample: bytes) -> bool:
    """Whether a file that failed to decode is still clearly text in ``encoding`` with a few damaged bytes.

    UTF-8: valid multi-byte characters were read and the undecodable bytes are rare
    (at most 3, or 2% of the characters, in the sample). Some GBK byte pairs happen to
    be valid UTF-8 (拼 is C6 B4, which UTF-8 reads as ƴ), but a GBK file read as
    UTF-8 fails on most of its characters. GB18030 accepts almost anything, so it
    only counts when the whole sample decoded and the damage is further on (a
    truncated or spliced export).
    """
    if encoding == "utf-8-sig":
        return True
    if encoding == "utf-8":
        if not scan.decoded_non_ascii:
            return False
        text = sample.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        good = sum(1 for ch in text if not ch.isascii() and ch != "\ufffd")
        return bad <= max(3, good // 50)
    if encoding == "gb18030":
        return scan.decoded_non_ascii and scan.error_offset >= len(sample)
    return False


def _plausibility(text: str, *, simplified: bool) -> float:
    """Share of the non-ASCII characters that real Chinese (or Japanese) text is made of.

    ``simplified``: only GB2312 ideographs and CJK punctuation count, which a
    Big5 or Shift-JIS file read as GB18030 mostly is not (it comes out as kana,
    Cyrillic, box drawing and rare ideographs). Otherwise any CJK ideograph,
    kana or CJK punctuation counts. Too little non-ASCII text to judge is 1.0.
    """
    total = good = 0
    for ch in text:
        if ch.isascii() or ch.isspace() or ch == "\ufffd":
            continue
        total += 1
        code = ord(ch)
        if 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF or 0x2000 <= code <= 0x206F:
            good += 1
        elif 0x4E00 <= code <= 0x9FFF:
            if not simplified:
                good += 1
                continue
            try:
                ch.encode("gb2312")
                good += 1
            except UnicodeEncodeError:
                pass
        elif not simplified and 0x3040 <= code <= 0x30FF:
            good += 1
    return good / total if total >= 8 else 1.0


def _decodes(sample: bytes, encoding: str) -> str | None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        # final=False: the sample may end in the middle of a character.
        return decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return None


def _gb18030_or_other(path: Path, sample: bytes, gb_scan: _Scan, damage: str | None) -> tuple[str, _Scan, str | None]:
    """GB18030 decoded the file; keep it unless its text is mojibake of Big5 or Shift-JIS; refuse if all are."""
    gb_text = codecs.getincrementaldecoder("gb18030")(errors="replace").decode(sample, final=False)
    if _plausibility(gb_text, simplified=True) >= MIN_PLAUSIBILITY:
        return "gb18030", gb_scan, damage
    best: tuple[float, str] | None = None
    for encoding in FALLBACK_ENCODINGS:
        text = _decodes(sample, encoding)
        if text is None:
            continue
        score = _plausibility(text, simplified=False)
        if score >= MIN_PLAUSIBILITY and (best is None or score > best[0]):
            best = (score, encoding)
    if best is not None:
        encoding = best[1]
        scan = _scan(path, encoding)
        if scan.error_line is None:
            name = ENCODING_NAMES.get(encoding, encoding)
            return encoding, scan, gettext("文件按 %(name)s 编码读取") % {"name": name, "encoding": encoding}
    # Traditional characters saved as GBK are legitimate and score between mojibake and simplified text.
    if _plausibility(gb_text, simplified=True) >= 0.5:
        return "gb18030", gb_scan, damage
    raise NotTextCSVError(
        gettext("无法确定文字编码：按 GB18030/GBK 读出的是乱码，按 Big5（繁体）或 Shift-JIS 也读不通；请在 Excel 中另存为“CSV UTF-8”后再导入")
    )


def _encoding_detect(path: Path, sample: bytes) -> tuple[str, _Scan, str | None]:
    """Return (encoding, scan, warning); the warning says damaged bytes were replaced or a rarer encoding was used."""
    if sample.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif b"\x00" in sample:
        raise NotTextCSVError(gettext("含有 NUL 字节"))
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        scan = _scan(path, encoding)
        if scan.error_line is None:
            if encoding == "gb18030":
                return _gb18030_or_other(path, sample, scan, None)
            return encoding, scan, None
        if _damaged_but_readable(encoding, scan, sample):
            warning = (
                gettext("文件按 %(encoding)s 读取，第 %(error_line)s 行附近有无法解码的字节，已替换为 �") % {"encoding": encoding, "error_line": scan.error_line}
            )
            return encoding, _scan(path, encoding, errors="replace"), warning
    if candidates != ["utf-8", "gb18030"]:
        raise NotTextCSVError(gettext("无法按 %(candidates)s 解码") % {"candidates": candidates[0]})
    for encoding in FALLBACK_ENCODINGS:
        text = _decodes(sample, encoding)
        if text is not None and _plausibility(text, simplified=False) >= MIN_PLAUSIBILITY:
            scan = _scan(path, encoding)
            if scan.error_line is None:
                name = ENCODING_NAMES.get(encoding, encoding)
                return encoding, scan, gettext("文件按 %(name)s 编码读取") % {"name": name, "encoding": encoding}
    from charset_normalizer import from_bytes

    guess = from_bytes(sample).best()
    if guess is not None and guess.encoding:
        scan = _scan(path, guess.encoding)
        if scan.error_line is None:
            return guess.encoding, scan, gettext("文件按 %(encoding)s 编码读取（猜测）") % {"encoding": guess.encoding}
    raise NotTextCSVError(gettext("无法识别文字编码"))


def _delimiter_detect(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in CSV_DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_open(path: Path) -> Table:
    with open(path, "rb") as stream:
        sample = stream.read(SAMPLE_BYTES)
    encoding, scan, damage = _encoding_detect(path, sample)
    text_sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    if _looks_binary(text_sample):
        raise NotTextCSVError(gettext("含有大量控制字符"))
    stripped = text_sample.lstrip().lower()
    if stripped.startswith("<") and any(tag in stripped[:2000] for tag in ("<html", "<table", "<?xml", "<!doctype")):
        # Some back offices export an HTML table and name it .xls.
        raise UnsupportedFormatError(gettext("HTML/XML 网页文件，请在 Excel 中打开后另存为 XLSX"))
    first_line = text_sample.splitlines()[0] if text_sample.strip() else ""
    delimiter = _delimiter_detect(first_line)
    errors = "replace" if damage and "�" in damage else "strict"
    stream = open(path, encoding=encoding, errors=errors, newline="")  # noqa: SIM115 - closed by Table.close
    estimated = scan.newlines + (0 if scan.ends_with_newline else 1)
    table = Table(format="csv", rows=_csv_rows(stream, delimiter), encoding=encoding, estimated_rows=estimated)
    if damage:
        table.warnings.append(damage)
    table._closers.append(stream.close)
    return table


def _csv_rows(stream, delimiter: str) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(stream, delimiter=delimiter)
    row_number = 0
    try:
        for row_number, cells in enumerate(reader, start=1):
            yield row_number, cells
    except csv.Error as exc:
        raise ImportFileError(gettext("CSV 格式错误，在第 %(row_number)s 行附近：%(exc)s") % {"row_number": row_number + 1, "exc": exc}) from None


# --- XLSX ---


def xlsx_inflation_check(path: Path) -> None:
    """Refuse a zip bomb before openpyxl opens it: inflate every member in 64 KiB chunks, counting.

    Memory stays at one chunk whatever the file holds. Each member may inflate to
    at most XLSX_MAX_MEMBER_BYTES (the shared strings, which openpyxl keeps in
    memory, to XLSX_MAX_SHARED_STRINGS_BYTES) and at most XLSX_MAX_RATIO times its
    compressed size; the whole file to XLSX_MAX_UNCOMPRESSED_BYTES.
    """
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                limit = XLSX_MAX_MEMBER_BYTES
                if info.filename.lower().endswith("sharedstrings.xml"):
                    limit = XLSX_MAX_SHARED_STRINGS_BYTES
                inflated = 0
                with archive.open(info) as member:
                    # Small reads: zipfile then pulls compressed bytes in small steps too, so the ratio
                    # below is measured as it happens (a 1 MiB read would pull 1 MiB of a bomb at once).
                    while chunk := member.read(INFLATE_CHUNK_BYTES):
                        inflated += len(chunk)
                        total += len(chunk)
                        # The ratio so far (compressed bytes consumed, when zipfile tells us), so a bomb is
                        # stopped after XLSX_RATIO_FLOOR_BYTES rather than after ratio x its whole size.
                        left = getattr(member, "_compress_left", None)
                        consumed = info.compress_size - left if isinstance(left, int) else info.compress_size
                        ratio = inflated / max(consumed, 1)
                        if (
                            inflated > limit
                            or total > XLSX_MAX_UNCOMPRESSED_BYTES
                            or (inflated > XLSX_RATIO_FLOOR_BYTES and ratio > XLSX_MAX_RATIO)
                        ):
                            raise ImportFileError(
                                gettext("XLSX 解压后异常巨大（「%(filename)s」解压超过 %(inflated)s MB，压缩比 %(ratio).0f:1），疑似压缩炸弹或大量空白，已拒绝；请在 Excel 中删除空行空列后另存") % {"filename": info.filename[:60], "inflated": inflated // (1024 * 1024), "ratio": ratio}
                            )
    except ImportFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        # CRC errors, truncated members and unsupported compression all mean a damaged file.
        raise ImportFileError(
            gettext("XLSX 文件已损坏，无法解压") % {"exc": type(exc).__name__}
        ) from None


def _xlsx_open(path: Path, *, sheet_name: str | None = None, sheet_scorer=None) -> Table:
    from openpyxl import load_workbook

    xlsx_inflation_check(path)
    # A file object, not the path: openpyxl refuses paths whose extension is not .xlsx, and the
    # format was already decided from the content.
    stream = open(path, "rb")  # noqa: SIM115 - closed by Table.close
    try:
        # read_only streams the sheet XML; data_only gives a formula's cached value, never the formula.
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, zip and XML errors for broken files
        stream.close()
        raise ImportFileError(gettext("XLSX 文件已损坏，无法读取") % {"exc": type(exc).__name__}) from None

    def fail(message: str) -> ImportFileError:
        workbook.close()
        stream.close()
        return ImportFileError(message)

    sheets = workbook.worksheets
    if not sheets:
        raise fail(gettext("XLSX 中没有工作表"))
    names = "、".join(f"「{s.title}」" for s in sheets)
    warnings = []
    if sheet_name:
        matching = [s for s in sheets if s.title.strip() == sheet_name.strip()]
        if not matching:
            raise fail(gettext("工作簿中没有名为「%(sheet_name)s」的工作表；有：%(names)s") % {"sheet_name": sheet_name, "names": names})
        sheet = matching[0]
    else:
        sheet = workbook.active if workbook.active in sheets else sheets[0]
        if len(sheets) > 1 and sheet_scorer is not None:
            # The sheet whose header looks most like tickets; the active sheet wins a tie.
            ordered = [sheet] + [s for s in sheets if s is not sheet]
            scores = []
            for candidate in ordered:
                try:
                    head = list(islice(_xlsx_rows(candidate), SHEET_PROBE_ROWS))
                except ImportFileError:
                    head = []
                scores.append((sheet_scorer(head), -ordered.index(candidate), candidate))
            best = max(scores, key=lambda item: (item[0], item[1]))
            if best[0] > (0, 0):
                sheet = best[2]
        if len(sheets) > 1:
            warnings.append(
                gettext("工作簿有 %(count)s 个工作表（%(names)s），导入的是「%(title)s」；可用 --sheet 指定") % {"count": len(sheets), "names": names, "title": sheet.title}
            )
    estimated = sheet.max_row
    # The declared dimension is only a hint: some generators write a wrong one,
    # and openpyxl would silently stop reading at it.
    sheet.reset_dimensions()
    table = Table(
        format="xlsx",
        rows=_xlsx_rows(sheet),
        sheet_name=sheet.title,
        sheet_names=[s.title for s in sheets],
        estimated_rows=estimated if estimated and estimated > 1 else None,
        warnings=warnings,
    )
    table._closers.extend([workbook.close, stream.close])
    return table


def _xlsx_rows(sheet) -> Iterator[tuple[int, list[Any]]]:
    try:
        for row_number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield row_number, list(values)
    except Exception as exc:  # a truncated or malformed sheet part
        raise ImportFileError(gettext("XLSX 文件已损坏，读取中断") % {"exc": type(exc).__name__}) from None
