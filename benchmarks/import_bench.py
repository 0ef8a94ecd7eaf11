"""Import throughput: a 200,000-row platform-shaped GBK export through ``import_file`` (no triage enqueue).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_import .venv/bin/python benchmarks/import_bench.py

Prints rows per second and the process's peak resident memory (ru_maxrss).

The database named in DATABASE_URL is a scratch one: the script drops and
creates it, migrates it, measures, and drops it again (``--keep`` leaves it).
To protect real data its name must start with ``bench``. Without DATABASE_URL
a temporary SQLite file is used.

``--shape taobao`` (the default) writes the shape of a Qianniu refund export
(see feedback/imports/presets/taobao.json): 19 columns, ids wrapped as
``="…"``, the complaint split over 买家退款原因 and 买家退款说明 (a quarter of
the notes empty), 退款的申请时间 in Chinese and slash formats, and no
``--source``: the platform is detected, as a user would import it. ``--shape
generic`` writes the earlier 6-column file. Texts are assembled from phrases
written here (nothing is read from ../shared); most SKUs name a known product;
a sprinkling of rows is bad (no text at all) or has an unreadable date (kept,
with a warning). A second run imports the same file again, where every row is
a duplicate.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OPENINGS = ["买的", "这次收到的", "第二次买的", "给家里人买的", "活动时抢的", "618 买的"]
PRODUCTS = ["洗发水", "连衣裙", "蓝牙耳机", "苹果", "猫粮", "保温杯", "充电宝", "羽绒服"]
PROBLEMS = [
    "物流太慢了，一个星期才到", "快递一直不更新，客服也不回", "收到就漏液了，箱子全湿了", "外包装压扁，里面碎了",
    "和详情页描述的完全不一样", "颜色和图片差很多", "少发了一件赠品", "发错了尺码", "用了两天就坏了",
    "做工很差，线头很多", "怀疑是假货，没有防伪码", "客服态度很差，问了半天没人理", "申请退货一直不给处理",
    "刚买就降价了，差价不给补", "优惠券用不了",
]
ENDINGS = ["", "，很失望", "，希望尽快处理", "！！", "，不会再买了", "，请给个说法"]
CHANNELS = ["电话", "在线客服", "邮件", "App", "商品评价", "平台售后", "review", "chat"]


def _date(rng: random.Random, i: int) -> str:
    day = date.today() - timedelta(days=1 + i % 300)  # always in the past, whatever the clock says
    style = i % 4
    if style == 0:
        return f"{day.isoformat()} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
    if style == 1:
        return f"{day.year}/{day.month}/{day.day} {rng.randint(0, 23)}:{rng.randint(0, 59):02d}"
    if style == 2:
        return day.strftime("%Y%m%d")
    return day.isoformat()


def csv_generate(path: Path, rows: int, *, products: int, seed: int = 7) -> None:
    """Write a GB18030 CSV export of ``rows`` tickets, about 0.5% of them bad."""
    rng = random.Random(seed)
    with open(path, "w", encoding="gb18030", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["工单号", "内容", "商品编码", "订单号", "渠道", "创建时间"])
        for i in range(rows):
            text = f"{rng.choice(OPENINGS)}{rng.choice(PRODUCTS)}{rng.choice(PROBLEMS)}{rng.choice(ENDINGS)}"
            sku = f"BENCH-{rng.randrange(int(products * 1.1)):05d}"  # ~10% unknown SKUs
            received = _date(rng, i)
            if i % 200 == 0:
                text = "  "  # bad row: whitespace only
            elif i % 333 == 0:
                received = "下周三"  # bad row: unparseable date
            writer.writerow([f"TB{i:08d}", text, sku, f"{rng.randrange(10**15, 10**16)}", rng.choice(CHANNELS), received])


REASONS = ["收到商品破损", "与描述不符", "七天无理由退换货", "质量问题", "少件/漏发", "发错货", "未按约定时间发货", "效果不好/不喜欢"]


def _applied(rng: random.Random, i: int) -> str:
    day = date.today() - timedelta(days=1 + i % 300)
    hour, minute = rng.randint(0, 23), rng.randint(0, 59)
    if i % 3 == 0:
        return f"{day.year}年{day.month}月{day.day}日 {hour}时{minute:02d}分"
    if i % 3 == 1:
        half = "下午" if hour >= 12 else "上午"
        return f"{day.year}/{day.month:02d}/{day.day:02d} {half}{hour % 12 or 12}:{minute:02d}"
    return f"{day.isoformat()} {hour:02d}:{minute:02d}:00"


def taobao_generate(path: Path, rows: int, *, products: int, seed: int = 7) -> None:
    """Write a GBK Qianniu-style refund export of ``rows`` refunds, about 0.5% of them without any text."""
    rng = random.Random(seed)
    with open(path, "w", encoding="gbk", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([
            "订单编号", "退款编号", "支付宝交易号", "订单付款时间", "商家编码", "退款完结时间", "买家会员名称",
            "买家实际支付金额", "宝贝标题", "买家退款金额", "手工退款/系统退款", "是否需要退货", "退款的申请时间",
            "超时时间", "退款状态", "货物状态", "买家退款原因", "买家退款说明", "商家备注",
        ])
        for i in range(rows):
            note = f"{rng.choice(OPENINGS)}{rng.choice(PRODUCTS)}{rng.choice(PROBLEMS)}{rng.choice(ENDINGS)}"
            reason = rng.choice(REASONS)
            if i % 4 == 0:
                note = ""  # a quarter of buyers pick a reason and write nothing
            if i % 200 == 0:
                note = reason = ""  # bad row: no text at all
            applied = "下周三" if i % 333 == 0 else _applied(rng, i)  # unreadable: kept, dated at import
            sku = f"BENCH-{rng.randrange(int(products * 1.1)):05d}"
            writer.writerow([
                f'="{3271849200000000000 + i}"', f'="{182736450000000000 + i}"', f"2026{i:020d}",
                "2026-11-28 10:00:00", sku, "", f"买家{i % 9973}", "59.00", f"{rng.choice(PRODUCTS)} 旗舰款",
                "59.00", "系统退款", "是", applied, "", "退款成功", "已收到货", reason, note, "",
            ])


def _postgres_admin(url: str):
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("bench"):
        sys.exit(f"refusing to drop and create database {name!r}: use a scratch database whose name starts with 'bench'")
    admin_url = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    return psycopg, admin_url, name


def database_prepare(url: str | None) -> str:
    """Create an empty scratch database and return the DATABASE_URL to use."""
    if not url:
        return f"sqlite:///{tempfile.mkdtemp(prefix='import-bench-')}/bench.sqlite3"
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        psycopg, admin_url, name = _postgres_admin(url)
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        return url
    if url.startswith("sqlite:"):
        return url
    sys.exit(f"unsupported DATABASE_URL for the benchmark: {url}")


def database_drop(url: str) -> None:
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        from django.db import connections

        connections.close_all()
        psycopg, admin_url, name = _postgres_admin(url)
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--shape", choices=["taobao", "generic"], default="taobao")
    parser.add_argument("--products", type=int, default=2_000, help="known products to create first")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and the CSV")
    args = parser.parse_args()

    url = database_prepare(os.environ.get("DATABASE_URL"))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings

    # With DEBUG Django keeps the SQL of up to 9,000 queries in memory: with 1,000-row batches that
    # alone added ~100 MB to the peak RSS at 200,000 rows. Production runs without it; so does this.
    settings.DEBUG = False
    import resource

    from django.core.management import call_command
    from django.db import connection

    from feedback.imports.service import import_file
    from feedback.models import Product, Ticket

    workdir = Path(tempfile.mkdtemp(prefix="import-bench-csv-"))
    path = workdir / "export.csv"
    try:
        call_command("migrate", verbosity=0)
        Product.objects.bulk_create(
            [Product(sku=f"BENCH-{i:05d}", name=f"商品 {i}", product_category="测试") for i in range(args.products)],
            batch_size=1000,
        )
        started = time.perf_counter()
        generate = taobao_generate if args.shape == "taobao" else csv_generate
        generate(path, args.rows, products=args.products)
        print(
            f"generated {args.rows:,} rows, {args.shape} shape ({path.stat().st_size / 1e6:.1f} MB, GBK) "
            f"in {time.perf_counter() - started:.1f}s"
        )
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; load average {os.getloadavg()[0]:.1f}")

        for label in ("first import", "re-import (all duplicates)"):
            started, cpu_started = time.perf_counter(), time.process_time()
            # No source for the platform shape: the preset (and the id namespace) is detected from the headers.
            result = import_file(path=path, source=None if args.shape == "taobao" else "bench", enqueue=False)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            print(
                f"{label}: {result.total:,} rows in {elapsed:.2f}s = {result.total / elapsed:,.0f} rows/s "
                f"(imported {result.imported:,}, duplicates {result.duplicates:,}, failed {result.failed:,}, "
                f"encoding {result.encoding}, preset {result.preset}; this process used {cpu:.1f}s of CPU, the rest "
                f"is the database and waiting; peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)"
            )
        print(f"tickets in database: {Ticket.objects.count():,}")
    finally:
        if not args.keep:
            path.unlink(missing_ok=True)
            workdir.rmdir()
            database_drop(url)
        else:
            print(f"kept {path} and database {url}")


if __name__ == "__main__":
    main()
