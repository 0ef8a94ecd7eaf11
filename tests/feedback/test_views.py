"""The agents' pages: filing, listing and searching, the detail page, roles and escaping."""
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.models import Channel, Ticket, TriageStatus
from tests.factories import ProductFactory, TicketFactory, UserFactory, category

PHONE = "13812345678"
MASKED_PHONE = "138****5678"
SCRIPT = "<script>alert(1)</script>"


def file_ticket(client, **fields):
    data = {"text": "洗发水漏液了", "channel": Channel.PHONE, "product": "", "order_number": ""}
    data.update(fields)
    return client.post(reverse("ticket-create"), data)


def listed_ids(response) -> list[int]:
    return [ticket.pk for ticket in response.context["tickets"]]


# --- Filing ---


def test_filing_a_valid_ticket_saves_it_and_shows_its_detail(agent_client, agent):
    product = ProductFactory(sku="SKU-SHAMPOO", name="去屑洗发水 500ml")

    response = file_ticket(agent_client, text="  洗发水漏液了，瓶盖裂开  ", product="SKU-SHAMPOO", order_number="DD2024")

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ticket-detail", args=[ticket.pk])
    assert ticket.text == "洗发水漏液了，瓶盖裂开"
    assert ticket.channel == Channel.PHONE
    assert ticket.product == product
    assert ticket.order_number == "DD2024"
    assert ticket.filed_by == agent
    page = agent_client.get(response["Location"])
    assert f"工单 #{ticket.pk} 已保存" in page.content.decode()


def test_save_and_file_another_returns_to_an_empty_form_with_the_last_channel(agent_client):
    response = agent_client.post(
        reverse("ticket-create"), {"text": "物流太慢了", "channel": Channel.EMAIL, "save_another": "1"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("ticket-create")
    form = agent_client.get(reverse("ticket-create")).context["form"]
    assert form["text"].value() in (None, "")
    assert form["channel"].value() == Channel.EMAIL


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "投诉内容不能为空"),
        ("   \n\t  ", "投诉内容不能为空"),
        ("长" * 5001, "投诉内容过长"),
    ],
    ids=["empty", "whitespace-only", "over-5000-characters"],
)
def test_bad_text_is_refused_with_the_error_next_to_the_text_field(agent_client, text, expected):
    response = file_ticket(agent_client, text=text, order_number="KEEP-ME")

    assert response.status_code == 200
    assert not Ticket.objects.exists()
    form = response.context["form"]
    assert expected in form.errors["text"][0]
    # What the agent typed elsewhere survives the round trip.
    assert form["order_number"].value() == "KEEP-ME"
    assert expected in response.content.decode()


def test_exactly_5000_characters_is_accepted(agent_client):
    file_ticket(agent_client, text="长" * 5000)

    assert Ticket.objects.get().text == "长" * 5000


def test_unknown_sku_is_saved_without_a_product_and_with_a_warning(agent_client):
    response = file_ticket(agent_client, product="NO-SUCH-SKU")

    ticket = Ticket.objects.get()
    assert ticket.product is None
    assert ticket.sku_raw == "NO-SUCH-SKU"
    page = agent_client.get(response["Location"]).content.decode()
    assert "未知 SKU" in page
    assert "NO-SUCH-SKU" in page


def test_a_product_can_be_given_by_its_exact_name(agent_client):
    product = ProductFactory(sku="SKU-APPLE", name="烟台红富士苹果 5斤")

    file_ticket(agent_client, product="烟台红富士苹果 5斤")

    assert Ticket.objects.get().product == product


def test_too_long_sku_is_shown_next_to_the_product_field(agent_client):
    response = file_ticket(agent_client, product="X" * 65)

    assert not Ticket.objects.exists()
    assert "SKU 过长" in response.context["form"].errors["product"][0]


@pytest.mark.parametrize("role_fixture", ["agent", "lead", "manager", "admin_user"])
def test_every_role_may_file_tickets(db, client, request, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))

    assert client.get(reverse("ticket-create")).status_code == 200
    assert file_ticket(client).status_code == 302


def test_product_search_matches_sku_or_name_and_returns_at_most_ten(agent_client):
    ProductFactory(sku="FRUIT-001", name="赣南脐橙")
    for number in range(12):
        ProductFactory(sku=f"PHONE-{number:03d}", name=f"手机壳 {number}")

    by_name = agent_client.get(reverse("product-search"), {"q": "脐橙"}).json()["results"]
    by_sku = agent_client.get(reverse("product-search"), {"q": "phone"}).json()["results"]
    empty = agent_client.get(reverse("product-search"), {"q": " "}).json()["results"]

    assert [p["sku"] for p in by_name] == ["FRUIT-001"]
    assert by_name[0]["name"] == "赣南脐橙"
    assert len(by_sku) == 10
    assert empty == []


# --- List, search and filters ---


def test_searching_a_chinese_word_finds_it_inside_the_text(agent_client):
    leaking = TicketFactory(text="洗发水漏液了，整个箱子都湿了")
    TicketFactory(text="物流太慢，一周还没到")

    response = agent_client.get(reverse("ticket-list"), {"q": "漏液"})

    assert listed_ids(response) == [leaking.pk]


@pytest.mark.parametrize(
    "query, field, value",
    [
        ("DD20240501", "order_number", "DD20240501-77"),
        ("sku-tea", "sku_raw", "SKU-TEA-9"),
        ("TB-8841", "external_id", "TB-8841"),
    ],
)
def test_search_also_matches_order_number_sku_and_external_id(agent_client, query, field, value):
    wanted = TicketFactory(**{field: value})
    TicketFactory()

    response = agent_client.get(reverse("ticket-list"), {"q": query})

    assert listed_ids(response) == [wanted.pk]


def test_search_matches_the_product_name(agent_client):
    wanted = TicketFactory(product=ProductFactory(name="有机绿茶 250g"))
    TicketFactory(product=ProductFactory(name="蓝牙耳机"))

    assert listed_ids(agent_client.get(reverse("ticket-list"), {"q": "绿茶"})) == [wanted.pk]


def test_filters_narrow_by_channel_category_and_status(agent_client):
    damaged = category("damaged")
    wanted = TicketFactory(channel=Channel.EMAIL, category=damaged, triage_status=TriageStatus.NEEDS_REVIEW)
    TicketFactory(channel=Channel.PHONE, category=damaged, triage_status=TriageStatus.NEEDS_REVIEW)
    TicketFactory(channel=Channel.EMAIL, category=category("price"), triage_status=TriageStatus.NEEDS_REVIEW)
    TicketFactory(channel=Channel.EMAIL, category=damaged, triage_status=TriageStatus.CONFIRMED)

    response = agent_client.get(
        reverse("ticket-list"), {"channel": "email", "category": "damaged", "triage_status": "needs_review"}
    )

    assert listed_ids(response) == [wanted.pk]


def test_date_range_is_inclusive_of_both_days(agent_client):
    today = timezone.localdate()
    start = timezone.make_aware(datetime.combine(today - timedelta(days=3), time.min))
    first_day = TicketFactory(received_at=start)
    last_day = TicketFactory(received_at=start + timedelta(days=2, hours=23, minutes=59))
    TicketFactory(received_at=start - timedelta(minutes=1))
    TicketFactory(received_at=start + timedelta(days=3))

    response = agent_client.get(
        reverse("ticket-list"),
        {"received_from": (today - timedelta(days=3)).isoformat(), "received_to": (today - timedelta(days=1)).isoformat()},
    )

    assert sorted(listed_ids(response)) == sorted([first_day.pk, last_day.pk])


def test_an_invalid_filter_value_is_ignored_and_reported_not_a_crash(agent_client):
    TicketFactory()

    response = agent_client.get(reverse("ticket-list"), {"received_from": "not-a-date", "channel": "pigeon"})

    assert response.status_code == 200
    assert len(listed_ids(response)) == 1
    assert response.context["filter_form"].errors


def test_list_pages_by_fifty_and_keeps_the_filters_in_page_links(agent_client):
    TicketFactory.create_batch(51, channel=Channel.APP)

    first = agent_client.get(reverse("ticket-list"), {"channel": "app"})
    second = agent_client.get(reverse("ticket-list"), {"channel": "app", "page": 2})

    assert len(listed_ids(first)) == 50
    assert len(listed_ids(second)) == 1
    assert "?channel=app&amp;page=2" in first.content.decode()


def test_list_queries_do_not_grow_with_the_number_of_tickets(agent_client, django_assert_max_num_queries):
    for _ in range(30):
        TicketFactory(product=ProductFactory(), category=category("damaged"), predicted_category=category("damaged"))

    with django_assert_max_num_queries(12):
        agent_client.get(reverse("ticket-list"))


def test_review_queue_link_lists_only_tickets_waiting_for_review(agent_client):
    waiting = TicketFactory(triage_status=TriageStatus.NEEDS_REVIEW)
    TicketFactory(triage_status=TriageStatus.CLASSIFIED)

    response = agent_client.get(reverse("ticket-list"), {"triage_status": "needs_review"})

    assert listed_ids(response) == [waiting.pk]
    assert response.context["is_review_queue"]


# --- Detail, masking and escaping ---


def test_the_filer_sees_the_full_phone_number_and_another_agent_sees_it_masked(client, agent):
    ticket = TicketFactory(text=f"请回电 {PHONE}，洗发水漏液了", filed_by=agent)
    other_agent = UserFactory(username="agent2")

    client.force_login(agent)
    as_filer = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    client.force_login(other_agent)
    as_other = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()

    assert PHONE in as_filer
    assert PHONE not in as_other
    assert MASKED_PHONE in as_other


def test_admins_see_the_full_phone_number(client, agent, admin_user):
    ticket = TicketFactory(text=f"电话 {PHONE}", filed_by=agent)
    client.force_login(admin_user)

    assert PHONE in client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()


def test_the_list_masks_phone_numbers(agent_client, agent):
    TicketFactory(text=f"电话 {PHONE} 漏液", filed_by=agent)

    page = agent_client.get(reverse("ticket-list")).content.decode()

    assert PHONE not in page
    assert MASKED_PHONE in page


@pytest.mark.parametrize("url_name", ["ticket-list", "ticket-detail"])
def test_script_in_ticket_text_is_escaped(agent_client, agent, url_name):
    ticket = TicketFactory(text=SCRIPT, filed_by=agent)
    args = [ticket.pk] if url_name == "ticket-detail" else []

    page = agent_client.get(reverse(url_name, args=args)).content.decode()

    assert SCRIPT not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_in_product_name_and_order_number_is_escaped(agent_client):
    ticket = TicketFactory(product=ProductFactory(name="<b>bold</b>"), order_number='"><img src=x onerror=alert(1)>')

    detail = agent_client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    listing = agent_client.get(reverse("ticket-list")).content.decode()

    for page in (detail, listing):
        assert "<b>bold</b>" not in page
        assert "<img src=x" not in page


def test_detail_shows_prediction_suggestions_and_terms(agent_client):
    ticket = TicketFactory(
        predicted_category=category("damaged"),
        prediction_confidence=0.62,
        prediction_top=[["damaged", 0.62], ["quality_defect", 0.21], ["wrong_or_missing", 0.08]],
        prediction_terms=[["漏液", 1.7], ["裂开", 0.9]],
        triage_status=TriageStatus.NEEDS_REVIEW,
    )

    response = agent_client.get(reverse("ticket-detail", args=[ticket.pk]))
    page = response.content.decode()

    assert [s.category.code for s in response.context["suggestions"]] == ["damaged", "quality_defect", "wrong_or_missing"]
    assert "62%" in page
    assert "漏液" in page and "裂开" in page
    assert page.count('name="category" value="') == 3  # one "accept" button per suggestion


def test_detail_of_a_missing_ticket_is_404(agent_client):
    assert agent_client.get(reverse("ticket-detail", args=[999999])).status_code == 404


def test_label_history_is_shown(agent_client, agent):
    from feedback.models import CategoryLabel

    ticket = TicketFactory()
    CategoryLabel.objects.create(
        ticket=ticket, category=category("damaged"), previous_category=category("other"), labelled_by=agent
    )

    page = agent_client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()

    assert "其他 → <strong>破损变质</strong>" in page


# --- Roles ---


def test_a_manager_cannot_correct_a_category(client, manager):
    ticket = TicketFactory()
    client.force_login(manager)

    response = client.post(reverse("ticket-confirm", args=[ticket.pk]), {"category": "damaged"})

    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.confirmed_category is None


def test_a_manager_sees_no_correction_buttons(client, manager):
    ticket = TicketFactory(predicted_category=category("damaged"), prediction_top=[["damaged", 0.9]])
    client.force_login(manager)

    response = client.get(reverse("ticket-detail", args=[ticket.pk]))

    assert response.status_code == 200
    assert reverse("ticket-confirm", args=[ticket.pk]) not in response.content.decode()


def test_an_agent_sees_the_correction_form(agent_client):
    ticket = TicketFactory()

    page = agent_client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()

    assert reverse("ticket-confirm", args=[ticket.pk]) in page


@pytest.mark.parametrize("role_fixture", ["agent", "lead", "admin_user"])
def test_agents_leads_and_admins_may_correct_a_category(db, client, request, role_fixture):
    pytest.importorskip("feedback.classification", reason="feedback.classification is not written yet")
    user = request.getfixturevalue(role_fixture)
    ticket = TicketFactory(predicted_category=category("other"), triage_status=TriageStatus.NEEDS_REVIEW)
    client.force_login(user)

    response = client.post(reverse("ticket-confirm", args=[ticket.pk]), {"category": "damaged"})

    assert response.status_code == 302
    assert response["Location"] == reverse("ticket-detail", args=[ticket.pk])
    ticket.refresh_from_db()
    assert ticket.confirmed_category.code == "damaged"
    assert ticket.category.code == "damaged"
    assert ticket.labels.get().labelled_by == user


def test_confirming_an_unknown_category_changes_nothing(agent_client):
    ticket = TicketFactory()

    response = agent_client.post(reverse("ticket-confirm", args=[ticket.pk]), {"category": "no_such_category"})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.confirmed_category is None


def test_confirm_accepts_only_post(agent_client):
    ticket = TicketFactory()

    assert agent_client.get(reverse("ticket-confirm", args=[ticket.pk])).status_code == 405


# --- Language ---


def test_pages_are_chinese_by_default(agent_client):
    page = agent_client.get(reverse("ticket-list")).content.decode()

    assert "新建工单" in page
    assert 'lang="zh-hans"' in page


def test_the_login_page_switches_language_for_an_anonymous_visitor(client, settings):
    response = client.get(reverse("login"), {"lang": "en", "next": "/tickets/"})

    assert response.status_code == 200
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Log in" in response.content.decode()
    # The choice sticks for the next page without the parameter.
    assert "Log in" in client.get(reverse("login")).content.decode()


def test_the_login_page_ignores_an_unknown_language(client, settings):
    response = client.get(reverse("login"), {"lang": "xx"})

    assert response.status_code == 200
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert "登录" in response.content.decode()


def test_logged_in_users_switch_language_with_set_language(agent_client):
    response = agent_client.post(reverse("set_language"), {"language": "en", "next": reverse("ticket-list")})

    assert response.status_code == 302
    page = agent_client.get(reverse("ticket-list")).content.decode()
    assert "New ticket" in page
    assert "新建工单" not in page


def test_home_page_counts_the_review_queue(agent_client):
    TicketFactory.create_batch(2, triage_status=TriageStatus.NEEDS_REVIEW)

    response = agent_client.get(reverse("home"))

    assert response.status_code == 200
    assert response.context["counts"]["needs_review"] == 2
