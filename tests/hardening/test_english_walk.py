"""Every page in English shows no Chinese outside the users' own data.

Each role (agent, lead, manager, admin) walks every URL pattern of the app with real objects behind
the detail pages, plus the 403/404/500 pages, form and import errors. User data (ticket texts, product
names and categories, names people typed) is removed first, by the strings the fixture created;
whatever Chinese is left is a string the app forgot to translate.
"""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from html.parser import HTMLParser

import pytest
import time_machine
from django.conf import settings
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation

from accounts.models import Role
from feedback.models import ImportJob, TriageStatus
from issues.models import Issue, IssueStatus, Notification, RoutingRule, SubTheme
from tests.factories import ProductFactory, TicketFactory, UserFactory, category, department

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_clock():
    """The walk's data is dated relative to now; a fixed moment late in the evening keeps its pages the same on any day."""
    with time_machine.travel(datetime(2027, 1, 31, 23, 50, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")

PRODUCTS = [("FR-1001", "赣南脐橙 5斤装", "水果"), ("CL-2001", "纯棉T恤", "服饰"), ("SH-3001", "去屑洗发水", "洗发水")]
TEXTS = {
    "FR-1001": "橙子五天还没到，物流太慢了",
    "CL-2001": "T恤发货太慢，一周了还没发",
    "SH-3001": "洗发水漏液了，瓶子裂开",
}
# Strings people type: the walk removes them before looking for Chinese.
USER_STRINGS = [
    "王磊", "李娜", "张伟", "赵敏", "何静", "水果走仓储", "已更换快递公司", "已联系快递加急", "换快递后观察一周",
    "坏果", "漏液", "日期格式不对", "订单号", "外部工单号",
    "备注", "其它",  # the headers of the file uploaded below
]

def _file_vocabulary() -> set[str]:
    """Words that appear in the files people import (Chinese platforms' headers and values).

    The import guides quote them as they are in the file: an English reader must still recognise
    "买家留言" in a Taobao export. They are the files' words, not the app's.
    """
    from feedback.imports import columns
    from issues.impact.services import sales

    words = {"评价正文", "宝贝ID", "货品编号", "货品名称", "尺码偏小", "色差", "未分类"}
    for table in (columns.HEADER_ALIASES, columns.CHANNEL_ALIASES, sales.HEADER_ALIASES):
        for aliases in table.values():
            words |= set(aliases)
    for preset in columns.presets_load().values():
        for aliases in preset.aliases.values():
            words |= set(aliases)
    return words


FILE_VOCABULARY = _file_vocabulary()

# URL names not walked with GET, and why (every other name must be in KWARGS or take no arguments).
NOT_WALKED = {
    "logout": "POST only; walking it would end the session",
    "set_language": "POST only (the language switch)",
    "api-docs": "Swagger UI: the vendored page's own strings",
    "api-schema": "OpenAPI document: descriptions are developer documentation",
}


@pytest.fixture(autouse=True)
def _no_tasks(monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from feedback import tasks as feedback_tasks
    from issues import tasks as issue_tasks

    for module, names in [(issue_tasks, ("route_issue", "reroute_open_issues", "deliver_notification")),
                          (feedback_tasks, ("run_import", "triage_ticket", "triage_tickets"))]:
        for name in names:
            task = getattr(module, name)
            monkeypatch.setattr(task, "apply_async", lambda *args, **kwargs: None)
            monkeypatch.setattr(task, "delay", lambda *args, **kwargs: None)


@pytest.fixture
def world(db, settings):
    """Demo-like data: three products, a spike, a resolved issue, notifications, a rule, an import job."""
    from issues.services import (
        issue_assign,
        issue_comment,
        issue_transition,
        issues_prioritize,
        issues_spikes_detect,
        routing_inline,
        subthemes_refresh,
        tickets_attach,
    )

    users = {
        "agent": UserFactory(username="agent_walk", first_name="李娜", role=Role.AGENT),
        "lead": UserFactory(username="lead_walk", first_name="王磊", role=Role.LEAD,
                            department=department("logistics")),
        "manager": UserFactory(username="manager_walk", first_name="张伟", role=Role.MANAGER),
        "admin": UserFactory(username="admin_walk", first_name="赵敏", role=Role.ADMIN, is_staff=True,
                             is_superuser=True),
    }
    products = {sku: ProductFactory(sku=sku, name=name, product_category=kind) for sku, name, kind in PRODUCTS}
    now = timezone.now()
    ids = []
    plan = [("FR-1001", "logistics_delay", {0: 9, **{d: 1 for d in range(1, 8)}}),
            ("CL-2001", "logistics_delay", {d: 2 for d in range(0, 10)}),
            ("SH-3001", "damaged", {d: 2 for d in range(0, 6)})]
    for sku, code, per_day in plan:
        for days_ago, count in per_day.items():
            for n in range(count):
                ids.append(TicketFactory(
                    text=f"{TEXTS[sku]}（{days_ago}-{n}）", product=products[sku], sku_raw=sku, category=category(code),
                    triage_status=TriageStatus.CLASSIFIED, prediction_confidence=0.91, filed_by=users["agent"],
                    prediction_top=[{"code": code, "confidence": 0.91}, {"code": "other", "confidence": 0.05}],
                    received_at=now - timedelta(days=days_ago, minutes=n),
                ).pk)
    with routing_inline():
        tickets_attach(ticket_ids=ids)
    review = TicketFactory(text="收到的东西不对，要求退款", product=products["SH-3001"], sku_raw="SH-3001",
                           triage_status=TriageStatus.NEEDS_REVIEW, predicted_category=category("damaged"),
                           prediction_confidence=0.42, filed_by=users["agent"],
                           # A close runner-up: the page proposes it as a second category (也涉及).
                           prediction_top=[{"code": "damaged", "confidence": 0.42},
                                           {"code": "counterfeit", "confidence": 0.30}],
                           also_category=category("price"), also_category_set_by=users["agent"],
                           also_category_set_at=now)
    # A grouped ticket also about damage, for the library's 也涉及 filter.
    from feedback.models import Ticket

    Ticket.objects.filter(pk=ids[0]).update(also_category=category("damaged"))
    TicketFactory(text="还没分类的工单", sku_raw="NO-SUCH-SKU", filed_by=users["agent"])
    issues_spikes_detect()
    issues_prioritize()

    oranges = Issue.objects.get(category__code="logistics_delay", scope_key="水果")
    shirts = Issue.objects.get(category__code="logistics_delay", scope_key="服饰")
    lead = users["lead"]
    issue_transition(issue=oranges, to_status=IssueStatus.IN_PROGRESS, actor=lead)
    issue_assign(issue=oranges, assignee=lead, actor=lead)
    issue_comment(issue=oranges, actor=lead, note="已联系快递加急")
    issue_transition(issue=shirts, to_status=IssueStatus.RESOLVED, actor=lead, action_taken="已更换快递公司",
                     action_date=(now - timedelta(days=2)).date())
    RoutingRule.objects.create(name="水果走仓储", order=5, product_category="水果", department=department("logistics"))
    subthemes_refresh()
    SubTheme.objects.create(label="坏果", keywords=["坏果"], size=5, category=category("damaged"), is_candidate=True)
    SubTheme.objects.create(label="漏液", keywords=["漏液"], size=4, category=category("damaged"),
                            issue=Issue.objects.get(category__code="damaged"))

    # A team member in the lead's department (the queue lists the team), and a saved view for everyone.
    UserFactory(username="member_walk", first_name="何静", role=Role.AGENT, department=department("logistics"))
    from feedback.models import SavedView

    saved = {role: SavedView.objects.create(owner=user, name=f"{role} view", filters={"channel": "phone"})
             for role, user in users.items()}

    job = ImportJob.objects.create(
        original_name="tickets.csv", status=ImportJob.Status.DONE, total_rows=3, processed_rows=3, failed=1,
        imported=2, created_by=users["agent"], finished_at=now,
        errors=[{"row": 3, "field": "received_at", "message": "", "value": "日期格式不对"}],
    )
    # The model page with everything on it: an admin's threshold override, a refused training run,
    # a confirmed ticket in the trade-off sample.
    from feedback.models import TrainingRun
    from feedback.services import category_threshold_set

    category_threshold_set(category=category("damaged"), threshold=0.72, user=users["admin"])
    TrainingRun.objects.create(
        status=TrainingRun.Status.DONE, stage=TrainingRun.Stage.FINISHED, percent=100, in_progress=None,
        started_by=users["admin"], finished_at=now, version="20260301-000000-aaaa", activated=False,
        reason="kept the active model: macro-F1 0.60 vs 0.69",
    )
    TicketFactory(text=TEXTS["SH-3001"], predicted_category=category("damaged"), prediction_confidence=0.9,
                  confirmed_category=category("damaged"), category=category("damaged"), confirmed_at=now,
                  triage_status=TriageStatus.CONFIRMED)
    return {"users": users, "review": review, "oranges": oranges, "shirts": shirts, "job": job,
            "rule": RoutingRule.objects.get(), "subtheme": SubTheme.objects.filter(is_candidate=True).first(),
            "notification": Notification.objects.first(), "saved_view": saved["agent"]}


def url_names() -> list[tuple[str, URLPattern]]:
    """Every named pattern outside the Django admin, with its namespace."""
    found = []

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, namespace + (f"{pattern.namespace}:" if pattern.namespace else ""))
            elif pattern.name:
                found.append((namespace + pattern.name, pattern))

    walk(get_resolver().url_patterns)
    return found


def urls_for(world) -> list[str]:
    """A URL for every pattern, with real objects in it."""
    issue, ticket, job = world["oranges"], world["review"], world["job"]
    by_argument = {
        "pk": None, "code": "logistics", "sku": "FR-1001", "token": "no-such-token", "export": "csv",
        "action": "comment", "decision": "dismiss",
    }
    pk_for = {
        "issue": issue.pk, "ticket": ticket.pk, "review": ticket.pk, "import": job.pk, "routing": world["rule"].pk,
        "subtheme": world["subtheme"].pk, "impact-sales": 999999, "saved-view": world["saved_view"].pk,
    }
    urls = []
    for name, pattern in url_names():
        if name.split(":")[-1] in NOT_WALKED:
            continue
        arguments = set(pattern.pattern.regex.groupindex)
        kwargs = {}
        for argument in arguments:
            if argument == "pk":
                short = name.split(":")[-1]
                prefix = next((p for p in sorted(pk_for, key=len, reverse=True) if short.startswith(p)), None)
                assert prefix, f"no object for {name}: add it to pk_for"
                kwargs["pk"] = pk_for[prefix]
            else:
                assert argument in by_argument, f"no value for <{argument}> in {name}"
                kwargs[argument] = by_argument[argument]
        try:
            urls.append(reverse(name, kwargs=kwargs or None))
        except Exception:  # the same name with and without arguments (department-queue): take both
            urls.append(reverse(name))
        if name == "department-queue":
            urls += [reverse(name), reverse(name, kwargs={"code": "warehouse"}), reverse(name) + "?view=watching"]
    urls += [
        "/no-such-page/", f"/issues/{issue.pk + 1000}/", "/api/no-such-endpoint/", "/api/issues/999999/",
        reverse("ticket-list") + "?received_from=not-a-date", reverse("issue-library") + "?status=nonsense",
        reverse("daily-report") + "?day=2001-01-01", "/api/tickets/?received_after=yesterday",
        reverse("impact-trend-csv"), reverse("daily-report-download", kwargs={"export": "csv"}),
        reverse("issue-library") + "?also=damaged", reverse("ticket-list") + "?also_category=damaged",
    ]
    return urls


class VisibleText(HTMLParser):
    """Text and the attributes people read (title, aria-label, placeholder, alt, data-msg-*), minus <script>."""

    READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "value", "data-template", "data-label"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        # A language's own name in the switch (中文) is meant to be read by those who read it.
        own_language = (attributes.get("lang") or "").startswith("zh")
        if tag in ("script", "style", "svg") or own_language:
            if tag not in ("input", "meta", "link", "br", "img"):
                self.skip_depth += 1
                self.stack.append(tag)
            return
        if self.skip_depth:
            return
        for name, value in attrs:
            if value and (name in self.READ_ATTRIBUTES or name.startswith("data-msg")):
                if name == "value" and tag == "input" and attributes.get("type") not in ("submit", "button"):
                    continue
                self.parts.append(value)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
            self.skip_depth -= 1

    def handle_data(self, data):
        if not self.skip_depth:
            self.parts.append(data)


def user_strings(world) -> list[str]:
    from feedback.models import Product, Ticket

    strings = set(USER_STRINGS)
    for text, masked in Ticket.objects.values_list("text", "text_masked"):
        strings |= {text, masked}
    for name, kind in Product.objects.values_list("name", "product_category"):
        strings |= {name, kind}
    strings |= set(SubTheme.objects.values_list("label", flat=True))
    for keywords in SubTheme.objects.values_list("keywords", flat=True):
        strings |= set(keywords)
    for keywords in Issue.objects.values_list("keywords", flat=True):
        strings |= {k if isinstance(k, str) else str(k[0]) for k in keywords or []}
    strings |= FILE_VOCABULARY
    # Longest first, so a text is removed whole before a word inside it.
    return sorted((s for s in strings if s and CJK.search(s)), key=len, reverse=True)


def chinese_left(content: str, content_type: str, known: list[str]) -> list[str]:
    if "html" in content_type:
        parser = VisibleText()
        parser.feed(content)
        text = "\n".join(parser.parts)
    else:
        text = content
    # Truncated ticket texts ("橙子五天还…") are still user data: drop the known strings, then their stubs.
    for string in known:
        text = text.replace(string, " ")
    for string in known:
        if len(string) > 8:
            text = text.replace(string[:8], " ")
    found: dict[str, str] = {}
    for match in CJK.finditer(text):
        start = max(0, match.start() - 30)
        found.setdefault(match.group(), " ".join(text[start:match.end() + 30].split()))
    return list(found.values())


def english_client(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def check(client, url, known, method="get", **kwargs) -> list[str]:
    response = getattr(client, method)(url, **kwargs)
    content_type = response.get("Content-Type", "")
    if not any(kind in content_type for kind in ("html", "json", "csv", "text")) or response.streaming:
        return []
    body = response.content.decode("utf-8", errors="replace")
    if "json" in content_type and response.status_code < 400:
        return []  # API data (names, titles as stored, name_zh); its error messages are checked
    return [f"{method.upper()} {url} [{response.status_code}]: …{snippet}…"
            for snippet in chinese_left(body, content_type, known)]


@pytest.mark.parametrize("role", ["agent", "lead", "manager", "admin"])
def test_every_page_in_english_has_no_chinese_outside_user_data(client, world, role):
    known = user_strings(world)
    english_client(client, world["users"][role])
    problems = []
    statuses = {}
    for url in urls_for(world):
        problems += check(client, url, known)
        statuses[url] = client.get(url).status_code
    # The walk reached real pages, not just refusals.
    assert statuses[reverse("issue-detail", args=[world["oranges"].pk])] == 200
    # The team page opens for the logistics lead and admins (403 for the others, in English too).
    assert statuses[reverse("department-team", args=["logistics"])] == (200 if role in ("lead", "admin") else 403)
    assert statuses["/no-such-page/"] == 404
    assert not problems, "\n".join(problems)


def test_refusals_form_errors_and_import_errors_are_english(client, world):
    known = user_strings(world)
    problems = []
    agent = english_client(client, world["users"]["agent"])
    # 403: an agent on the routing rules.
    assert agent.get(reverse("routing-rules")).status_code == 403
    problems += check(agent, reverse("routing-rules"), known)
    # Form errors: an empty ticket, a ticket from the future, a file the importer cannot read.
    problems += check(agent, reverse("ticket-create"), known, method="post", data={"text": "", "channel": "chat"})
    problems += check(agent, reverse("ticket-create"), known, method="post",
                      data={"text": "x", "channel": "nope", "received_at": "3000-01-01T00:00"})
    png = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    png.name = "photo.csv"
    problems += check(agent, reverse("import-create"), known, method="post", data={"file": png})
    empty = io.BytesIO(b"")
    empty.name = "empty.csv"
    problems += check(agent, reverse("import-create"), known, method="post", data={"file": empty})
    gbk = io.BytesIO("备注,其它\n1,2\n".encode("gbk"))
    gbk.name = "no-columns.csv"
    problems += check(agent, reverse("import-create"), known, method="post", data={"file": gbk})
    # API errors.
    problems += check(agent, "/api/tickets/", known, method="post", data={"text": "", "channel": "fax"},
                      content_type="application/json")
    problems += check(agent, "/api/tickets/batch/", known, method="post", data={"tickets": []},
                      content_type="application/json")
    # The second category (也涉及): recorded, cleared, refused as the ticket's own or unknown.
    from feedback.models import Ticket

    damaged = Ticket.objects.filter(category__code="damaged").first()
    for code in ("quality_defect", "", "damaged", "nope"):
        problems += check(agent, reverse("ticket-also", args=[damaged.pk]), known, method="post",
                          data={"also_category": code}, follow=True)
        problems += check(agent, f"/api/tickets/{damaged.pk}/also/", known, method="post",
                          data={"also_category": code or None}, content_type="application/json")
        problems += check(agent, reverse("review-also", args=[damaged.pk]), known, method="post",
                          data={"also_category": code or None}, content_type="application/json")
    problems += check(english_client(client, world["users"]["manager"]), reverse("ticket-also", args=[damaged.pk]),
                      known, method="post", data={"also_category": "price"})
    agent = english_client(client, world["users"]["agent"])

    lead = english_client(client, world["users"]["lead"])
    oranges = world["oranges"]
    # Resolving without the action taken.
    problems += check(lead, reverse("issue-action", args=[oranges.pk, "resolve"]), known, method="post",
                      data={"action_taken": "", "action_date": ""}, follow=True)
    problems += check(lead, f"/api/issues/{oranges.pk}/status/", known, method="post",
                      data={"status": "resolved"}, content_type="application/json")
    admin = english_client(client, world["users"]["admin"])
    problems += check(admin, reverse("routing-rule-create"), known, method="post", data={"name": ""})
    # The model page: a refused threshold, a saved one, a retrain while none runs and a second click.
    for data in ({"category": "damaged", "threshold": "1.5"}, {"category": "damaged", "threshold": "abc"},
                 {"category": "nope", "threshold": "0.5"}, {"category": "damaged", "threshold": "0.6"},
                 {"category": "damaged", "clear": "1"}):
        problems += check(admin, reverse("model-page"), known, method="post", data={"action": "threshold", **data},
                          follow=True)
    problems += check(admin, reverse("model-page"), known, method="post", data={"action": "retrain"}, follow=True)
    problems += check(admin, reverse("model-page"), known, method="post", data={"action": "retrain"}, follow=True)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language, expected", [("en", "Server error"), ("zh-hans", "服务器出错")])
def test_the_500_page_exists_in_both_languages(language, expected):
    from config.errors import handler500

    request = RequestFactory().get("/tickets/")
    with translation.override(language):
        response = handler500(request)
    body = response.content.decode()
    assert response.status_code == 500
    assert expected in body
    if language == "en":
        assert not CJK.search(body)


@pytest.mark.parametrize("language, expected", [("en", "Page not found"), ("zh-hans", "页面不存在")])
def test_the_404_page_exists_in_both_languages(client, world, language, expected):
    client.force_login(world["users"]["agent"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert expected in response.content.decode()


def test_the_django_admin_is_branded_and_lists_tickets_products_and_categories_in_english(client, world):
    known = user_strings(world)
    admin = english_client(client, world["users"]["admin"])
    index = admin.get(reverse("admin:index"))
    assert index.status_code == 200
    page = index.content.decode()
    assert "Feedback triage admin" in page
    for model in ("ticket", "product", "category"):
        assert reverse(f"admin:feedback_{model}_changelist") in page
    ticket = world["review"]
    urls = [
        reverse("admin:index"),
        reverse("admin:feedback_ticket_changelist"), reverse("admin:feedback_ticket_changelist") + "?q=SH-3001",
        reverse("admin:feedback_ticket_change", args=[ticket.pk]),
        reverse("admin:feedback_product_changelist") + "?q=FR",
        reverse("admin:feedback_category_changelist"),
        reverse("admin:feedback_category_change", args=[category("damaged").pk]),
        reverse("admin:issues_issue_changelist"), reverse("admin:issues_department_changelist"),
    ]
    # In the admin the Chinese names and descriptions of categories and departments, and the titles of
    # issues as stored, are fields being edited.
    from feedback.models import Category
    from issues.models import Department

    edited = set(Category.objects.values_list("name_zh", flat=True)) | set(
        Category.objects.values_list("description", flat=True)) | set(Department.objects.values_list("name_zh", flat=True)) | set(
        Issue.objects.values_list("title", flat=True))
    known = sorted(set(known) | {s for s in edited if s}, key=len, reverse=True)
    problems = []
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, url
        problems += check(admin, url, known)
    assert not problems, "\n".join(problems)
    assert admin.get(reverse("admin:feedback_ticket_add")).status_code == 403


def test_the_admin_says_its_name_in_chinese_too(client, world):
    client.force_login(world["users"]["admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "问题分诊后台" in client.get(reverse("admin:index")).content.decode()
