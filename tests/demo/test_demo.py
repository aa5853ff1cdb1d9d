"""The demo platform that `make run` loads: its data file, and seeding it idempotently."""

import json
from datetime import date

from sqlalchemy import func, select

from matchmaker.accounts.models import Organization, User
from matchmaker.core.extensions import db
from matchmaker.core.validators import credit_code_error, patent_error
from matchmaker.demo.seed import DEMO_PASSWORD, DEMO_USERS, load_demo_data
from matchmaker.listings.models import MATURITY_TRL, TRANSFER_MODES, Achievement, Need
from matchmaker.listings.taxonomy import FIELD_NAMES


def test_demo_data_covers_enough_listings_fields_and_organizations():
    data = load_demo_data()
    achievements, needs = data["achievements"], data["needs"]
    assert len(achievements) >= 45 and len(needs) >= 45
    fields = {f for row in achievements + needs for f in row["fields"]}
    assert fields <= set(FIELD_NAMES) and len(fields) >= 8
    kinds = [org["kind"] for org in data["organizations"]]
    assert sum(k in ("university", "institute") for k in kinds) >= 10
    assert kinds.count("enterprise") >= 12


def test_demo_data_identifiers_are_valid():
    data = load_demo_data()
    codes = [org["credit_code"] for org in data["organizations"]]
    assert all(credit_code_error(code) is None for code in codes)
    assert len(set(codes)) == len(codes)
    patents = [p for row in data["achievements"] for p in row["patents"]]
    assert len(patents) >= 20 and all(patent_error(p) is None for p in patents)
    for row in data["achievements"]:
        assert row["maturity"] in MATURITY_TRL
        assert row["modes"] and set(row["modes"]) <= set(TRANSFER_MODES)
        assert 2 <= row["description"].count("。") <= 4, row["ref"]
    assert sum(row["bottleneck"] for row in data["needs"]) >= 8


def test_most_demo_needs_echo_the_words_of_some_achievement():
    data = load_demo_data()
    offers = [a["title"] + a["description"] + "".join(a["keywords"]) for a in data["achievements"]]

    def has_partner(need):
        return any(sum(k in offer for k in need["keywords"]) >= 2 for offer in offers)

    assert sum(has_partner(n) for n in data["needs"]) >= 40


def test_seed_publishes_demo_listings_and_gives_demo_users_their_own(app, runner):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    data = load_demo_data()
    assert counts["achievements_added"] == len(data["achievements"])
    assert counts["needs_added"] == len(data["needs"])
    published = db.session.scalar(
        select(func.count(Achievement.id)).where(Achievement.status == "published")
    )
    assert published == len(data["achievements"])
    institute = db.session.scalar(select(User).where(User.login == "institute"))
    enterprise = db.session.scalar(select(User).where(User.login == "enterprise"))
    own_achievements = db.session.scalars(
        select(Achievement).where(Achievement.organization_id == institute.organization_id)
    ).all()
    own_needs = db.session.scalars(
        select(Need).where(Need.organization_id == enterprise.organization_id)
    ).all()
    assert len(own_achievements) >= 3 and len(own_needs) >= 3
    pecvd = db.session.scalar(select(Achievement).where(Achievement.title.like("%PECVD%")))
    assert pecvd.trl == MATURITY_TRL[pecvd.maturity] and pecvd.price_min < pecvd.price_max
    assert pecvd.fields[0].name == "IC装备" and pecvd.patents
    needs = db.session.scalars(select(Need)).all()
    assert all(n.deadline > date.today() for n in needs)
    assert any(n.is_bottleneck for n in needs)


def test_seeding_twice_adds_nothing(app, runner):
    runner.invoke(args=["demo", "seed"])
    before = {
        m.__name__: db.session.scalar(select(func.count(m.id)))
        for m in (Achievement, Need, Organization, User)
    }
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    assert set(json.loads(second.output).values()) == {0}
    after = {
        m.__name__: db.session.scalar(select(func.count(m.id)))
        for m in (Achievement, Need, Organization, User)
    }
    assert after == before


def test_every_demo_account_signs_in_with_the_demo_password(app, runner, client):
    runner.invoke(args=["demo", "seed"])
    logins = [u[0] for u in DEMO_USERS] + ["jingchi"]
    for login in logins:
        response = client.post("/auth/login", data={"login": login, "password": DEMO_PASSWORD})
        assert response.status_code == 302, login
        assert client.get("/api/v1/me").json["login"] == login
        client.post("/auth/logout")
    broker = db.session.scalar(select(User).where(User.login == "broker"))
    assert "IC装备" in [f.name for f in broker.fields]


def test_demo_seed_gives_the_dashboard_a_funnel_with_contracts(app, runner):
    from matchmaker.dashboard import figures as dashboard
    from matchmaker.fairs.models import Fair
    from matchmaker.pairs.models import Meeting, PairEvent, Suggestion

    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    figures = dashboard.totals()
    assert figures["recommended"] >= 20
    assert figures["met"] >= 5 and figures["intentions"] >= 3
    assert figures["contracts"] >= 3 and figures["contract_value"] > 0
    states = set(db.session.scalars(select(Suggestion.state)))
    assert {
        "recommended",
        "accepted",
        "meeting_scheduled",
        "met",
        "intention",
        "contract",
    } <= states
    # Every worked pair has its history (it went through the services), spread over months.
    months = {e.at.strftime("%Y-%m") for e in db.session.scalars(select(PairEvent))}
    assert len(months) >= 3
    trend = [m for m in dashboard.by_month() if m["contracts"] or m["met"]]
    assert len(trend) >= 2
    past, upcoming = sorted(db.session.scalars(select(Fair)), key=lambda f: f.held_on)
    assert past.held_on < date.today() < upcoming.held_on
    assert past.status == "closed" and upcoming.status == "published"
    held = db.session.scalars(select(Meeting).where(Meeting.fair_id == past.id)).all()
    assert sum(m.status == "held" for m in held) >= 4
    assert db.session.scalar(select(func.count(Meeting.id)).where(Meeting.fair_id == upcoming.id))
    # The demo enterprise and institute users each have a recommendation waiting on them.
    from matchmaker.dashboard.home import party_home

    for login in ("enterprise", "institute"):
        user = db.session.scalar(select(User).where(User.login == login))
        assert party_home(user)["waiting"]["count"] >= 1, login


def test_demo_pairs_are_seeded_once(app, runner):
    from matchmaker.fairs.models import Fair
    from matchmaker.pairs.models import PairEvent

    runner.invoke(args=["demo", "seed"])
    events = db.session.scalar(select(func.count(PairEvent.id)))
    result = runner.invoke(args=["demo", "seed"])
    assert json.loads(result.output)["pairs_added"] == 0
    assert db.session.scalar(select(func.count(PairEvent.id))) == events
    assert db.session.scalar(select(func.count(Fair.id))) == 2
