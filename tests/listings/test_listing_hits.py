"""Catalogue searches answered from the term index alone find what the general search finds."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from matchmaker.core.extensions import db
from matchmaker.listings import hits as listing_hits
from matchmaker.listings import posting as svc
from matchmaker.listings.models import achievement_terms
from matchmaker.listings.search import parse_filters, search

QUERIES = ["机器人", "协作机器人", "机器人 焊接", "焊接", "电池"]


def _found(kind, user, args, page=1, per_page=20):
    result = search(kind, user, parse_filters(kind, args), page, per_page)
    return result.total, [row.id for row in result.items]


@pytest.fixture
def catalogue(make_achievement, make_org):
    org = make_org(kind="institute")
    start = datetime(2026, 11, 1)
    texts = [
        ("协作机器人关节模组", "集成力矩传感器的协作机器人"),
        ("焊接机器人视觉引导", "焊缝跟踪与机器人焊接"),
        ("机器人焊接工作站", "中厚板焊接"),
        ("固态电池电解质", "锂电池材料"),
        ("巡检机器人", "变电站巡检"),
    ]
    rows = []
    for n, (title, description) in enumerate(texts * 3):
        # Ties in publication time and a published listing without one, as old data has.
        at = None if n == 4 else start + timedelta(days=n // 2)
        status = {5: "draft", 6: "closed", 7: "pending"}.get(n, "published")
        rows.append(
            make_achievement(
                title=title,
                description=description,
                organization=org,
                status=status,
                published_at=at,
            )
        )
    return rows


@pytest.mark.parametrize("sort", ["relevance", "newest"])
def test_index_only_search_finds_the_general_searchs_page(app, catalogue, monkeypatch, sort):
    expected = {}
    with monkeypatch.context() as m:
        m.setattr(listing_hits, "answers", lambda f: False)
        for q in QUERIES:
            for page in (1, 2, 5):  # 5: past the last page, the count still right
                expected[q, page] = _found("achievement", None, {"q": q, "sort": sort}, page, 4)
    for (q, page), want in expected.items():
        assert _found("achievement", None, {"q": q, "sort": sort}, page, 4) == want, q
    assert expected["机器人", 1][0] == 9  # 12 robot texts, 3 of them not published


def test_publishing_withdrawing_and_closing_move_a_listing_in_and_out_of_word_search(make_user):
    poster, staff = make_user("institute"), make_user("staff")
    row = svc.create_listing(
        "achievement",
        poster.id,
        {
            "title": "水下焊接机器人",
            "description": "用于海底管道维修的水下焊接机器人。",
            "fields": ["机器人与智能制造"],
            "maturity": "中试",
            "transfer_modes": ["许可"],
        },
    )

    def found():
        return _found("achievement", None, {"q": "水下"})[1]

    assert found() == []
    svc.submit_listing("achievement", row.id, poster.id)
    svc.review_listing("achievement", row.id, staff.id, "publish")
    assert found() == [row.id]
    published_at = db.session.scalars(
        select(achievement_terms.c.published_at).where(achievement_terms.c.listing_id == row.id)
    ).all()
    assert set(published_at) == {row.published_at}
    svc.withdraw_listing("achievement", row.id, poster.id)
    assert found() == []
    svc.submit_listing("achievement", row.id, poster.id)
    svc.review_listing("achievement", row.id, staff.id, "publish")
    assert found() == [row.id]
    svc.close_listing("achievement", row.id, poster.id)
    assert found() == []
    # The poster still finds it among their own listings (the general search).
    mine = _found("achievement", poster, {"q": "水下", "scope": "mine"})
    assert mine == (1, [row.id])


def test_filters_beyond_words_take_the_general_search(catalogue, make_user):
    staff = make_user("staff")

    def answered(**args):
        return listing_hits.answers(parse_filters("achievement", {"q": "机器人", **args}))

    assert answered(since="2026-11-03") and answered(sort="newest")
    assert not answered(status="draft") and not answered(min="1") and not answered(scope="mine")
    assert _found("achievement", staff, {"q": "机器人", "status": "draft"})[0] == 1
    since = _found("achievement", None, {"q": "机器人", "since": "2026-11-03"})
    assert since[0] == len(since[1]) and since[0] > 0


def test_a_stale_published_copy_in_the_terms_never_shows_an_unpublished_listing(
    make_achievement,
):
    draft = make_achievement(title="深海机器人", status="draft")
    db.session.execute(
        achievement_terms.update()
        .where(achievement_terms.c.listing_id == draft.id)
        .values(published=True)
    )  # as a web process still on the old code leaves it when withdrawing during an upgrade
    db.session.commit()
    assert _found("achievement", None, {"q": "深海"})[1] == []
