"""Every page at 390 px, for each role, in Chinese and English: nothing scrolls sideways, and in
English no Chinese is left on the rendered page outside user data (a browser English walk).

The data is the English walk's demo-like world (tests/hardening/test_english_walk.py): a spike, a
resolved issue with its impact card, a review ticket, notifications, a routing rule, an import job.
Each role walks every page of the URL confs that answers a GET with HTML (the same list the English
walk uses, minus the API, downloads and polling endpoints).
"""
from __future__ import annotations

import os

import pytest
from django.urls import reverse

from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.helpers import log_in
from tests.hardening.test_english_walk import urls_for, world  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_issue_tasks")]

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PHONE = {"width": 390, "height": 844}
# Not pages: JSON, downloads, polling endpoints, POST-only actions, and the 404 probes of the English walk.
NOT_PAGES = ("/api/", ".csv", ".xlsx", "/progress/", "/live/", "/presence/", "/health/", "/no-such", "/i18n/")
ROLES = ["agent", "member", "lead", "manager", "admin"]


def phone_pages(world, user) -> list[str]:
    """The pages ``user`` may open: every walked URL that answers them 200 with HTML."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    urls = []
    from feedback.models import Ticket
    from issues.models import Issue

    extra = [reverse("department-queue") + "?view=mine"]
    extra += [reverse("issue-detail", args=[pk]) for pk in Issue.objects.values_list("pk", flat=True)]
    extra += [reverse("ticket-detail", args=[pk]) for pk in Ticket.objects.order_by("-pk").values_list("pk", flat=True)[:3]]
    for url in urls_for(world) + extra:
        if any(part in url for part in NOT_PAGES) or url in urls:
            continue
        response = client.get(url)
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            urls.append(url)
    return urls


# The page's text after its scripts ran, with the attributes people read; an element marked
# lang="zh…" (the language switch's 中文) is meant for Chinese readers and left out, as in the
# English walk (tests/hardening/test_english_walk.py), which reads the server's HTML only.
PAGE_TEXT = """() => {
  const parts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('[lang^="zh"], script, style, noscript, template')) continue;
    parts.push(node.data);
  }
  for (const element of document.querySelectorAll('[title], [aria-label], [placeholder]')) {
    if (element.closest('[lang^="zh"]')) continue;
    for (const name of ['title', 'aria-label', 'placeholder']) {
      const value = element.getAttribute(name);
      if (value) parts.push(value);
    }
  }
  return parts.join('\\n');
}"""


def too_wide(page, urls: list[str], known: list[str] | None = None) -> list[str]:
    """Pages wider than the phone; with ``known`` (user data), also Chinese left on an English page."""
    found = []
    for url in urls:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            found.append(f"{url} is {width} px wide")
        if known is not None:
            found += [f"{url} in English: …{snippet}…" for snippet in chinese_outside(page.evaluate(PAGE_TEXT), known)]
    return found


def chinese_outside(text: str, known: list[str]) -> list[str]:
    """Chinese runs of ``text`` that are not part of any user string (the English walk's rule,
    loosened for pages that cut a ticket's text anywhere: a run inside a user string is user data)."""
    from tests.hardening.test_english_walk import CJK

    for string in known:  # whole user strings first, longest first (as the English walk does)
        text = text.replace(string, " ")
    found: dict[str, str] = {}
    for match in CJK.finditer(text):
        if any(match.group() in string for string in known):
            continue
        start = max(0, match.start() - 30)
        found.setdefault(match.group(), " ".join(text[start:match.end() + 30].split()))
    return list(found.values())


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_no_page_scrolls_sideways_at_390_px_for_any_role(browser, live_server, world, locale):
    from accounts.models import User

    from issues.services import issue_comment, routing_inline, tickets_attach
    from tests.factories import TicketFactory

    world["users"]["member"] = User.objects.get(username="member_walk")
    # Words with no place to break: a pasted link, an order number run into the text.
    issue_comment(issue=world["oranges"], actor=world["users"]["lead"],
                  note="https://logistics.example.com/tracking/SF1234567890123456789/detail?from=wecom&lang=zh-CN")
    TicketFactory(text="订单号202612018812345678901234567890橙子全烂了" * 3, sku_raw="FR-1001-LONG-SKU-WITHOUT-SPACES",
                  filed_by=world["users"]["agent"])
    # Among the issue's recent tickets: a pasted link, from the channel with the longest English name.
    # (The issue page was 511 px wide at 390 px in English with the demo's tickets like this one.)
    oranges = world["oranges"]
    pasted = TicketFactory(
        text="橙子还没到 https://detail.tmall.com/item.htm?id=623456789012&skuId=4987654321098&spm=a1z10.3-b-s",
        product=oranges.tickets.first().product, sku_raw="FR-1001", category=oranges.category, channel="platform",
        triage_status="classified", prediction_confidence=0.91, filed_by=world["users"]["agent"])
    with routing_inline():
        tickets_attach(ticket_ids=[pasted.pk])
    pasted.refresh_from_db()
    assert pasted.issue_id == oranges.pk
    from tests.hardening.test_english_walk import user_strings

    # In English, the rendered page (scripts included) must not show Chinese outside user data.
    known = user_strings(world) if locale.startswith("en") else None
    problems = []
    for role in ROLES:
        urls = phone_pages(world, world["users"][role])
        assert reverse("issue-detail", args=[world["oranges"].pk]) in urls
        context = browser.new_context(viewport=PHONE, locale=locale, base_url=live_server.url)
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            log_in(page, world["users"][role].username)
            problems += [f"{role} ({locale}): {line}" for line in too_wide(page, urls, known)]
            if role == "lead":
                SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
                page.goto(reverse("issue-detail", args=[world["oranges"].pk]))
                page.screenshot(path=str(SCREENSHOT_DIR / f"phone_issue_detail_{locale[:2]}_390.png"), full_page=True)
        finally:
            context.close()
    assert not problems, "\n".join(problems)
