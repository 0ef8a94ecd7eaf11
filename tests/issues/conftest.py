from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from feedback.models import Category, Product, Ticket, TriageStatus
from issues.models import Department
from tests.factories import ProductFactory, TicketFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _quiet_broker(settings, monkeypatch):
    """Unit tests never talk to a broker: tasks enqueued on commit are recorded, not sent."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent: list = []
    from issues import tasks

    for name in ("route_issue", "deliver_notification", "reroute_open_issues"):
        task = getattr(tasks, name)
        monkeypatch.setattr(task, "apply_async", lambda args=(), _n=name, **k: sent.append((_n, list(args or ()))))
        monkeypatch.setattr(task, "delay", lambda *args, _n=name: sent.append((_n, list(args))))
    return sent


@pytest.fixture
def sent_tasks(_quiet_broker):
    return _quiet_broker


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def department(code: str) -> Department:
    return Department.objects.get(code=code)


def make_ticket(
    *, code: str | None = "damaged", product: Product | None = None, sku_raw: str = "", days_ago: float = 0,
    text: str | None = None, channel: str = "chat", attach: bool = True,
) -> Ticket:
    """Save a classified ticket (and attach it to its issue unless ``attach=False``)."""
    from issues.services import ticket_attach

    kwargs = {}
    if text is not None:
        kwargs["text"] = text
    ticket = TicketFactory(
        product=product,
        sku_raw=sku_raw or (product.sku if product else ""),
        received_at=timezone.now() - timedelta(days=days_ago),
        category=category(code) if code else None,
        triage_status=TriageStatus.CLASSIFIED if code else TriageStatus.PENDING,
        channel=channel,
        **kwargs,
    )
    if attach:
        ticket_attach(ticket=ticket)
    return ticket


@pytest.fixture
def shampoo(db) -> Product:
    return ProductFactory(sku="SH-3001", name="去屑洗发水", product_category="洗发水")


@pytest.fixture
def tshirt(db) -> Product:
    return ProductFactory(sku="CL-2001", name="纯棉T恤", product_category="服饰")


@pytest.fixture
def warehouse_lead(db):
    return UserFactory(username="lead_warehouse", role=Role.LEAD, department=department("warehouse"),
                       email="lead.warehouse@example.com")


@pytest.fixture
def logistics_lead(db):
    return UserFactory(username="lead_logistics", role=Role.LEAD, department=department("logistics"))
