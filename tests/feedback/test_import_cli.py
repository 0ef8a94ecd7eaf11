"""``manage.py import_tickets``: summary, row errors, options and exit status."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from feedback.models import Ticket


def write_csv(path: Path, rows: list[list], encoding: str = "gb18030") -> Path:
    with open(path, "w", encoding=encoding, newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("import_tickets", *args, "--no-progress", stdout=out)
    return out.getvalue()


def test_prints_summary_and_row_errors_and_warnings_naming_rows(db, tmp_path):
    path = write_csv(tmp_path / "export.csv", [
        ["工单号", "内容", "渠道"],
        ["1", "物流太慢", "电话"],
        ["2", "", "电话"],
        ["1", "重复的行", "电话"],
        ["3", "坏了", "信鸽"],
    ])

    output = run_command(str(path), "--no-triage")

    assert "已导入：2" in output
    assert "重复跳过：1" in output
    assert "失败：1" in output
    assert "第 3 行" in output  # the empty text: an error
    assert "第 4 行 ·" in output  # the duplicate id: a row warning, named
    assert "第 5 行 · 渠道" in output and "信鸽" in output  # the unknown channel: kept, warned
    assert Ticket.objects.count() == 2


def test_second_run_reports_everything_as_duplicate(db, tmp_path):
    path = write_csv(tmp_path / "export.csv", [["工单号", "内容"], ["1", "a"], ["2", "b"]])

    run_command(str(path), "--no-triage")
    output = run_command(str(path), "--no-triage")

    assert "已导入：0" in output
    assert "重复跳过：2" in output
    assert Ticket.objects.count() == 2


def test_map_and_source_options(db, tmp_path):
    path = write_csv(tmp_path / "export.csv", [["评价正文", "宝贝ID", "编号"], ["衣服起球", "B-1", "77"]], encoding="utf-8-sig")

    run_command(str(path), "--source", "tmall", "--map", "评价正文=text", "--map", "宝贝ID=sku", "--map", "编号=external_id", "--no-triage")

    ticket = Ticket.objects.get()
    assert (ticket.text, ticket.sku_raw, ticket.external_source, ticket.external_id) == ("衣服起球", "B-1", "tmall", "77")


def test_triage_is_enqueued_unless_no_triage(db, tmp_path, monkeypatch):
    sent: list[list[int]] = []
    monkeypatch.setattr("feedback.services.tickets_enqueue_triage", lambda *, ticket_ids: sent.append(ticket_ids))
    first = write_csv(tmp_path / "a.csv", [["内容"], ["x"]])
    second = write_csv(tmp_path / "b.csv", [["内容"], ["y"]])

    run_command(str(first), "--no-triage")
    assert sent == []
    run_command(str(second))
    assert len(sent) == 1


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing.csv", "不存在"),
    (lambda p: (p / "binary.csv").write_bytes(bytes(range(256)) * 8) and p / "binary.csv", "文件不是有效的 CSV 文本"),
    (lambda p: (p / "report.pdf").write_bytes(b"%PDF-1.4 ...") and p / "report.pdf", "不支持的文件格式"),
    (lambda p: write_csv(p / "no-text.csv", [["工单号", "买家"], ["1", "x"]]), "买家"),
])
def test_unreadable_files_raise_command_error(db, tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(CommandError, match=message):
        run_command(str(path))


def test_bad_map_option_is_a_command_error(db, tmp_path):
    path = write_csv(tmp_path / "a.csv", [["内容"], ["x"]])
    with pytest.raises(CommandError, match="--map"):
        run_command(str(path), "--map", "评价正文")


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "import_tickets", *args],
        check=False, capture_output=True, text=True, env=env, timeout=120,
    )


def test_exit_status_from_the_shell(tmp_path):
    """Non-zero when the file cannot be read, zero when it was read even though a row failed."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "VAR_DIR": str(tmp_path / "var")}
    migrate = subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "migrate", "-v0"],
        check=False, capture_output=True, text=True, env=env, timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x00\x01\x02" * 1000)
    good = write_csv(tmp_path / "good.csv", [["工单号", "内容"], ["1", "物流太慢"], ["2", " "]])

    refused = _manage(str(binary), env=env)
    read = _manage(str(good), "--no-triage", env=env)

    assert refused.returncode != 0
    assert "文件不是有效的 CSV 文本" in refused.stderr
    assert read.returncode == 0, read.stderr
    assert "已导入：1" in read.stdout and "失败：1" in read.stdout
    assert "%" in read.stderr or "行" in read.stderr  # the tqdm progress bar went to stderr
