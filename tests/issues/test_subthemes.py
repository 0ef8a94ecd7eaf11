import json
import random
from pathlib import Path

import pytest

from feedback.models import Category, CategoryLabel, Ticket, TriageStatus
from issues.clustering import cluster_texts
from issues.models import Issue, SubTheme, SubThemeStatus
from issues.services import candidates_refresh, issues_keywords_refresh, subtheme_merge, subtheme_promote, subthemes_refresh
from tests.issues.conftest import category, department, make_ticket

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

COLOUR = ["衣服颜色和图片差别太大，色差严重", "实物颜色比图片深很多，色差", "色差太大了，跟图片完全不是一个颜色",
          "颜色不对，有色差，图片是浅蓝收到是深蓝", "收到的颜色和详情页不一样，色差明显", "色差严重，颜色发黄"]
SIZE = ["尺码偏小，按平时尺码买的穿不上", "尺码偏小一码，建议买大一号", "衣服偏小，尺码表不准",
        "尺码不标准，偏小很多", "按尺码表买的还是偏小，穿着紧", "码数偏小，L码像M码"]


def test_clusters_separate_colour_from_size_complaints():
    texts = COLOUR * 3 + SIZE * 3
    result = cluster_texts(texts, target_size=10)
    colour_labels = {result.labels[i] for i in range(len(COLOUR) * 3)}
    size_labels = {result.labels[i] for i in range(len(COLOUR) * 3, len(texts))}
    assert colour_labels.isdisjoint(size_labels)
    keywords = [" ".join(c.keywords) for c in result.clusters]
    assert any("色差" in k for k in keywords) and any("偏小" in k or "尺码" in k for k in keywords)


@pytest.mark.skipif(not (DATA / "complaints_dev.jsonl").exists(), reason="shared data not available")
def test_fewer_than_15_percent_of_other_tickets_stay_outside_every_cluster():
    dev = [json.loads(line) for line in (DATA / "complaints_dev.jsonl").open(encoding="utf-8")]
    other = [row["text"] for row in dev if row["category"] == "other"]
    pool = [json.loads(line)["text"] for line in (DATA / "complaints_unlabeled.jsonl").open(encoding="utf-8")]
    # Discovery clusters `other` tickets together with the unlabelled (not yet confident) pool.
    sample = random.Random(4).sample(pool, 3000)
    result = cluster_texts(other + sample)
    share = result.outside_share(range(len(other)))
    print(f"`other` outside every cluster: {share:.1%} of {len(other)}; clusters: {len(result.clusters)}")
    assert share < 0.15
    assert cluster_texts(other).outside_share() < 0.15


@pytest.mark.django_db
def test_subthemes_keywords_and_representatives_are_computed(tshirt):
    for text in COLOUR * 2 + SIZE * 2:
        make_ticket(product=tshirt, code="description_mismatch", text=text)
    assert issues_keywords_refresh() == 1
    issue = Issue.objects.get()
    assert len(issue.representative_ticket_ids) == 5 and issue.keywords
    assert issues_keywords_refresh() == 0  # nothing new since
    written = subthemes_refresh(category_id=category("description_mismatch").pk)
    assert written["description_mismatch"] >= 2
    themes = SubTheme.objects.filter(issue__isnull=True)
    # Labels are phrases customers wrote (issues/labels.py), so the colour theme may say 颜色 rather than 色差.
    labels = " ".join(themes.values_list("label", flat=True))
    assert "色差" in labels or "颜色" in labels, labels
    assert any("色差" in theme.keywords for theme in themes)


@pytest.mark.django_db
def test_a_lead_promotes_a_candidate_to_a_new_category_whose_tickets_become_labels(warehouse_lead, shampoo):
    texts = ["发票抬头开错了", "发票抬头写错", "要求重开发票，抬头不对", "发票开错抬头，要重开"] * 3
    for text in texts:
        make_ticket(product=shampoo, code="other", text=text)
    for text in ["不喜欢这个味道", "味道不喜欢", "这味道受不了", "味道太冲不喜欢"] * 3:
        make_ticket(product=shampoo, code="other", text=text)
    assert candidates_refresh() >= 2
    candidate = next(s for s in SubTheme.objects.filter(is_candidate=True) if "发票" in s.label or "抬头" in s.label)
    new = subtheme_promote(subtheme=candidate, code="invoice", name_zh="发票问题", department=department("after_sales"),
                           actor=warehouse_lead)
    candidate.refresh_from_db()
    assert candidate.status == SubThemeStatus.PROMOTED and candidate.resulting_category == new
    relabelled = Ticket.objects.filter(confirmed_category=new)
    assert relabelled.count() == len(candidate.ticket_ids) >= 6
    assert CategoryLabel.objects.filter(category=new).count() == relabelled.count()
    assert set(relabelled.values_list("triage_status", flat=True)) == {TriageStatus.CONFIRMED}
    issue = Issue.objects.get(category=new)
    assert issue.ticket_count == relabelled.count() and issue.department.code == "after_sales"
    other_issue = Issue.objects.get(category__code="other")
    assert other_issue.ticket_count == 24 - relabelled.count()

    taste = next(s for s in SubTheme.objects.filter(is_candidate=True, status="candidate") if "味道" in s.label)
    assert subtheme_merge(subtheme=taste, category=Category.objects.get(code="quality_defect"), actor=warehouse_lead) >= 6
