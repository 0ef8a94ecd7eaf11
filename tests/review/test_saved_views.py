"""Saved views: an agent names the list's current filters, finds them in the sidebar, deletes them;
nobody else sees or deletes them, and "today" stays today."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accounts.models import Role
from feedback.models import SavedView
from feedback.services import SAVED_VIEWS_PER_USER
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def agent():
    return UserFactory(username="view-agent", role=Role.AGENT)


def save(client, query: str, name: str = ""):
    return client.post("/tickets/views/", {"query": query, "name": name})


def test_the_current_filters_are_saved_under_a_name_and_listed_in_the_sidebar(agent):
    client = client_for(agent)
    with time_machine.travel(MONDAY, tick=False):
        response = save(client, "channel=chat&received_from=2026-06-01&received_to=2026-06-01&category=damaged")
        assert response.status_code == 302
        page = client.get("/tickets/", {"channel": "chat", "category": "damaged",
                                        "received_from": "2026-06-01", "received_to": "2026-06-01"})

    view = SavedView.objects.get(owner=agent)
    assert view.name == "在线客服 · 今天 · 破损变质"  # no name given: the filters, as an agent says them
    assert view.filters == {"channel": "chat", "category": "damaged",
                            "received_from_days_ago": 0, "received_to_days_ago": 0}
    links = page.context["saved_views"]
    assert [(link.name, link.is_current) for link in links] == [("在线客服 · 今天 · 破损变质", True)]
    assert 'aria-current="page">在线客服 · 今天 · 破损变质</a>' in page.content.decode()


def test_today_in_a_saved_view_is_the_day_it_is_opened(agent):
    client = client_for(agent)
    with time_machine.travel(MONDAY, tick=False):
        save(client, "received_from=2026-06-01&received_to=2026-06-01", name="今天的")
    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        old = TicketFactory(text="昨天的", received_at=MONDAY)
        new = TicketFactory(text="今天的", received_at=MONDAY + timedelta(days=1))
        link = client.get("/tickets/").context["saved_views"][0]
        shown = client.get(f"/tickets/?{link.query}").context["tickets"]

    assert "received_from=2026-06-02" in link.query
    assert [t.pk for t in shown] == [new.pk] and old.pk != new.pk


def test_a_name_given_is_kept_and_saving_it_again_replaces_the_filters(agent):
    client = client_for(agent)
    save(client, "channel=chat", name="  我的  渠道 ")
    save(client, "channel=phone", name="我的 渠道")

    assert list(SavedView.objects.filter(owner=agent).values_list("name", "filters")) == [
        ("我的 渠道", {"channel": "phone"})
    ]


def test_nothing_to_save_and_bad_filters_are_refused_with_a_message(agent):
    client = client_for(agent)

    empty = save(client, "page=1")
    empty_messages = [str(m) for m in client.get(empty.url).context["messages"]]
    bad = save(client, "issue=abc")
    bad_messages = [str(m) for m in client.get(bad.url).context["messages"]]

    assert SavedView.objects.count() == 0
    assert empty_messages == ["先设置筛选条件，再保存为视图。"]
    assert bad_messages == ["筛选条件有误，未保存视图。"] and "issue=abc" in bad.url


def test_the_number_of_views_is_capped(agent):
    SavedView.objects.bulk_create(
        [SavedView(owner=agent, name=f"v{n}", filters={"q": str(n)}) for n in range(SAVED_VIEWS_PER_USER)]
    )
    client = client_for(agent)

    save(client, "channel=chat", name="one more")
    save(client, "channel=chat", name="v3")  # replacing one is still allowed

    assert SavedView.objects.filter(owner=agent).count() == SAVED_VIEWS_PER_USER
    assert SavedView.objects.get(owner=agent, name="v3").filters == {"channel": "chat"}


def test_a_user_sees_and_deletes_only_their_own_views(agent):
    other = UserFactory(username="view-other", role=Role.LEAD)
    mine = SavedView.objects.create(owner=agent, name="我的", filters={"channel": "chat"})
    theirs = SavedView.objects.create(owner=other, name="别人的", filters={"channel": "phone"})
    client = client_for(agent)

    names = [link.name for link in client.get("/tickets/").context["saved_views"]]
    refused = client.post(f"/tickets/views/{theirs.pk}/delete/")
    deleted = client.post(f"/tickets/views/{mine.pk}/delete/", {"query": "channel=chat"})

    assert names == ["我的"]
    assert refused.status_code == 404 and SavedView.objects.filter(pk=theirs.pk).exists()
    assert deleted.status_code == 302 and deleted.url == "/tickets/?channel=chat"
    assert not SavedView.objects.filter(pk=mine.pk).exists()


def test_saving_and_deleting_need_a_login_and_a_post():
    anonymous = Client()

    assert anonymous.post("/tickets/views/", {"query": "channel=chat"}).status_code == 302
    assert SavedView.objects.count() == 0
    user = UserFactory(username="view-getter", role=Role.MANAGER)
    assert client_for(user).get("/tickets/views/").status_code == 405


def test_the_sidebar_speaks_english(agent):
    client = client_for(agent)
    client.cookies["django_language"] = "en"
    with time_machine.travel(MONDAY, tick=False):
        page = client.get("/tickets/", {"channel": "chat", "received_from": "2026-05-26", "received_to": "2026-06-01"})

    html = page.content.decode()
    assert "My views" in html and "Save view" in html
    assert page.context["saved_view_placeholder"] == "Online chat · last 7 days"
