"""Builders for impact tests: products, daily sales, tickets on a day, issues resolved with an action."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from feedback.models import Category, Product, Ticket
from issues.models import Issue, IssueDaily, IssueStatus, ScopeType
from issues.impact.models import DailySales


def product(sku: str = "CL-2001", category: str = "衣服") -> Product:
    return Product.objects.get_or_create(sku=sku, defaults={"name": f"商品 {sku}", "product_category": category})[0]


def sales(prod: Product, start: date, days: int, *, orders: int | Callable[[date], int],
          returns: int | Callable[[date], int]) -> None:
    """One DailySales row per day from ``start`` for ``days`` days."""
    rows = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        rows.append(DailySales(
            day=day, product=prod,
            orders=orders(day) if callable(orders) else orders,
            returns=returns(day) if callable(returns) else returns,
        ))
    DailySales.objects.bulk_create(rows)


def noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


def issue_for(prod: Product | None, category: str = "description_mismatch", *, scope_type: str = ScopeType.SKU,
              scope_key: str | None = None) -> Issue:
    cat = Category.objects.get(code=category)
    key = scope_key if scope_key is not None else (prod.sku if prod else "")
    return Issue.objects.create(
        category=cat, scope_type=scope_type, scope_key=key, product=prod if scope_type == ScopeType.SKU else None,
        product_category=prod.product_category if prod else "", title=f"{key} {cat.name_zh}",
        department=cat.default_department,
    )


def tickets(issue: Issue, day: date, count: int, *, prod: Product | None = None) -> None:
    """``count`` tickets on ``day`` attached to ``issue`` (and its daily series, as the library keeps it)."""
    Ticket.objects.bulk_create([
        Ticket(text=f"工单 {day} {n}", received_at=noon(day), product=prod or issue.product, category=issue.category,
               issue=issue)
        for n in range(count)
    ])
    if count:
        daily, _ = IssueDaily.objects.get_or_create(issue=issue, day=day)
        daily.count += count
        daily.save()


def resolve(issue: Issue, action_date: date, action: str = "详情页增加尺寸对比图") -> Issue:
    Issue.objects.filter(pk=issue.pk).update(status=IssueStatus.RESOLVED, action_taken=action, action_date=action_date,
                                             resolved_at=timezone.now())
    issue.refresh_from_db()
    return issue


def build_demo_world(total: int | None = None) -> None:
    """Demo users, products and the planned demo tickets, each filed under the category its text was
    written for and attached to its issue: the state ``load_demo`` reaches after triage, without a model."""
    from feedback.demo import story
    from feedback.demo.plan import ticket_plan
    from feedback.demo.services import demo_products_ensure, demo_users_ensure
    from issues.services.grouping import routing_inline, tickets_attach

    demo_users_ensure()
    products, _ = demo_products_ensure()
    categories = {c.code: c for c in Category.objects.all()}
    plan = ticket_plan(now=timezone.localtime(), total=total or story.DEFAULT_TICKETS)
    created = Ticket.objects.bulk_create([
        Ticket(text=p.text, channel=p.channel, received_at=p.received_at, product=products.get(p.sku),
               sku_raw=p.sku, category=categories[p.category])
        for p in plan
    ])
    ids = [t.pk for t in created] if created and created[0].pk else list(Ticket.objects.values_list("id", flat=True))
    with routing_inline():
        for start in range(0, len(ids), 1000):
            tickets_attach(ticket_ids=ids[start : start + 1000])
