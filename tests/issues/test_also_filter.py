"""The library's 也涉及 filter: issues holding tickets also about a category, a filter and never a second count."""
from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from feedback.services import ticket_also_category_set
from issues import selectors
from issues.models import Issue
from tests.factories import ProductFactory
from tests.issues.conftest import category, make_ticket

pytestmark = pytest.mark.django_db

COUNTS = ("ticket_count", "count_24h", "count_7d", "count_30d", "count_prev_7d", "growth_7d")


@pytest.fixture
def fakes(db):
    """Two issues: fake shoes (two of whose three tickets also arrived broken) and late oranges."""
    shoes = ProductFactory(sku="SH-77", name="跑步鞋", product_category="鞋")
    oranges = ProductFactory(sku="FR-77", name="脐橙", product_category="水果")
    fake = [make_ticket(code="counterfeit", product=shoes, days_ago=days, text="鞋像是假的") for days in (0, 1, 2)]
    late = make_ticket(code="logistics_delay", product=oranges, text="橙子还没到")
    return {"fake": fake, "late": late, "fake_issue": Issue.objects.get(category__code="counterfeit"),
            "late_issue": Issue.objects.get(category__code="logistics_delay")}


def counts(issue: Issue) -> dict[str, int]:
    issue.refresh_from_db()
    return {name: getattr(issue, name) for name in COUNTS}


def test_the_filter_lists_issues_holding_tickets_also_about_the_category_and_counts_stay(client, agent, fakes):
    before = {"fake": counts(fakes["fake_issue"]), "late": counts(fakes["late_issue"])}
    for ticket in fakes["fake"][:2]:
        ticket_also_category_set(ticket_id=ticket.pk, code="damaged", user=agent)
    client.force_login(agent)

    response = client.get(reverse("issue-library"), {"also": "damaged"})

    issues = list(response.context["issues"])
    assert [issue.pk for issue in issues] == [fakes["fake_issue"].pk]
    assert issues[0].also_count == 2
    # A filter, not a double count: no issue's counts moved, and no damaged issue appeared.
    assert counts(fakes["fake_issue"]) == before["fake"] and counts(fakes["late_issue"]) == before["late"]
    assert issues[0].ticket_count == 3
    assert not Issue.objects.filter(category=category("damaged")).exists()
    assert response.context["also"]["tickets"] == 2
    page = response.content.decode()
    assert "也涉及破损变质：2 张工单" in page
    assert f"{reverse('ticket-list')}?also_category=damaged" in page
    assert "共 1 个问题" in page  # the issue count, beside which the 2 tickets stand


def test_without_the_filter_the_library_is_unchanged(client, agent, fakes):
    ticket_also_category_set(ticket_id=fakes["late"].pk, code="damaged", user=agent)
    client.force_login(agent)

    response = client.get(reverse("issue-library"))

    assert {issue.pk for issue in response.context["issues"]} == {fakes["fake_issue"].pk, fakes["late_issue"].pk}
    assert response.context["also"] is None
    assert "data-also-summary" not in response.content.decode()


def test_the_filter_combines_with_the_others_and_counts_only_the_listed_issues(agent, fakes):
    ticket_also_category_set(ticket_id=fakes["fake"][0].pk, code="damaged", user=agent)
    ticket_also_category_set(ticket_id=fakes["late"].pk, code="damaged", user=agent)

    both = selectors.issue_list(filters={"also": "damaged"})
    quality = selectors.issue_list(filters={"also": "damaged", "department": "quality"})

    assert {issue.pk: issue.also_count for issue in both} == {fakes["fake_issue"].pk: 1, fakes["late_issue"].pk: 1}
    assert [issue.pk for issue in quality] == [fakes["fake_issue"].pk]
    assert selectors.issue_also_ticket_count(issues=both, category="damaged") == 2
    assert selectors.issue_also_ticket_count(issues=quality, category="damaged") == 1
    # The same by the category's id.
    assert [i.pk for i in selectors.issue_list(filters={"also": str(category("damaged").pk), "department": "quality"})] \
        == [fakes["fake_issue"].pk]


def test_a_cleared_second_category_leaves_the_filter(agent, fakes):
    ticket_also_category_set(ticket_id=fakes["fake"][0].pk, code="damaged", user=agent)
    ticket_also_category_set(ticket_id=fakes["fake"][0].pk, code="", user=agent)

    assert not selectors.issue_list(filters={"also": "damaged"}).exists()


def test_an_unknown_category_on_the_page_filters_nothing_away_and_is_no_error(client, agent, fakes):
    client.force_login(agent)

    response = client.get(reverse("issue-library"), {"also": "nonsense"})

    assert response.status_code == 200
    assert response.context["filter_form"].errors["also"]


def test_the_api_filters_issues_the_same_way(agent, fakes):
    ticket_also_category_set(ticket_id=fakes["fake"][1].pk, code="damaged", user=agent)
    api = APIClient()
    api.force_authenticate(agent)

    response = api.get("/api/issues/", {"also": "damaged"})

    assert response.status_code == 200
    assert [row["id"] for row in response.data["results"]] == [fakes["fake_issue"].pk]
    assert response.data["results"][0]["ticket_count"] == 3
