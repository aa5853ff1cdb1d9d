"""The role matrix: every protected endpoint, tried anonymously and as each of the four roles.

It walks app.url_map, so endpoints added later are covered without touching this file, as long
as their views use @roles_required (which records `allowed_roles` on the view). When a new
endpoint takes a URL parameter this file does not know, the test says what to add:
an entry in PARAM_TABLES (parameter -> table) and, for a new table, a row in build_world.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import product

import pytest
import sqlalchemy as sa
from werkzeug.routing import AnyConverter, IntegerConverter

from matchmaker.accounts.models import ROLES, User
from matchmaker.accounts.users import issue_token
from matchmaker.core.db import Base
from matchmaker.core.extensions import db
from matchmaker.fairs.models import Fair, FairRegistration
from matchmaker.listings.models import Achievement, Need
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.notifications.models import Notification, OutboxEmail
from matchmaker.pairs.models import Contract, Meeting, PairEvent, Suggestion
from matchmaker.runs.models import MatchChunk, MatchRun, SynonymGroup, VocabularyEntry
from tests.conftest import PASSWORD

# Endpoints anyone may open. Anything else must be protected with @roles_required.
PUBLIC_ENDPOINTS = {
    "static",
    "main.index",
    "main.healthz",
    "auth.login",
    "auth.register",
    "api.openapi",
    "runs.worker",  # /healthz/worker (jobs branch): a health check, like main.healthz
    # The published bottleneck list is public (全年申报、全年受理; institutes anywhere may apply).
    "challenges.index",
    "challenges.export_list",
    "challenges.versions",
    "challenges.entry",
    "api.list_challenges",
    "api.get_challenge",
    # The public catalogue (issue 15): published listings without their confidential parts;
    # tests/listings/test_listings_idor.py checks what anonymous visitors get.
    "listings.index",
    "listings.detail",
    "listings.export",
    "api.list_listings",
    "api.get_listing",
}
# URL parameter -> the table whose row it names. Unknown *_id parameters are tried as
# "<name>s" (e.g. fair_id -> fairs); a parameter may also depend on another one (listing_id).
PARAM_TABLES = {
    "org_id": "organizations",
    "organization_id": "organizations",
    "user_id": "users",
    "pair_id": "suggestions",
    "suggestion_id": "suggestions",
    "run_id": "match_runs",
    "chunk_id": "match_chunks",
    "event_id": "pair_events",
    "token_id": "api_tokens",
    "email_id": "outbox_emails",
    "registration_id": "fair_registrations",
    "entry_id": "vocabulary_entries",
    "problem_id": "bottleneck_entries",
    "application_id": "challenge_applications",
    "attachment_id": "challenge_attachments",
    "stage_id": "challenge_support_stages",
    "group_id": "synonym_groups",
}
LISTING_TABLES = {
    "achievement": "achievements",
    "achievements": "achievements",
    "need": "needs",
    "needs": "needs",
}
# Values for string parameters that name no row.
STRING_PARAMS = {"token": "no-such-token", "fmt": "csv", "format": "csv"}
# Rows that belong to one user: each role gets its own (a notification is only its owner's).
PER_ROLE_TABLES = {"notifications"}
# A 403 to an allowed role is a failure unless it comes from a check on the object (not the role
# gate) and is listed here with the reason: (endpoint, role) or (endpoint, role, any()-value).
# The entries below name endpoints of the listings and workbench branches, seen on a trial merge.
OBJECT_LEVEL_403: dict[tuple, str] = {
    ("listings.new", "enterprise", "achievements"): "companies post needs, not achievements",
    ("listings.new", "institute", "needs"): "institutes post achievements, not needs",
    ("api.create_listing", "enterprise", "achievements"): "companies post needs, not achievements",
    ("api.create_listing", "institute", "needs"): "institutes post achievements, not needs",
    ("listings.import_", "enterprise", "achievements"): "companies import needs only",
    ("listings.import_", "institute", "needs"): "institutes import achievements only",
    ("listings.edit", "enterprise", "achievements"): "only the owning organization edits",
    ("listings.edit", "institute", "needs"): "only the owning organization edits",
    ("listings.act", "enterprise", "achievements"): "only the owning organization acts",
    ("listings.act", "institute", "needs"): "only the owning organization acts",
    ("listings.export_suggestions", "enterprise"): "a side exports suggestions of its own listing",
    ("listings.export_suggestions", "institute"): "a side exports suggestions of its own listing",
    ("workbench.pair", "enterprise"): "a side sees a pair once a broker recommends it",
    ("workbench.pair", "institute"): "a side sees a pair once a broker recommends it",
    ("workbench.move", "enterprise"): "a side answers a pair once a broker recommends it",
    ("workbench.move", "institute"): "a side answers a pair once a broker recommends it",
    ("api.get_pair", "enterprise"): "a side sees a pair once a broker recommends it",
    ("api.get_pair", "institute"): "a side sees a pair once a broker recommends it",
    ("challenges.application", "broker"): "applications are for staff, the company and the team",
    ("challenges.attachment", "broker"): "applications are for staff, the company and the team",
    ("api.get_challenge_application", "broker"): "applications: staff, company and team only",
    ("auth.review_member", "enterprise"): "an org administrator reviews their own applicants",
    ("auth.review_member", "institute"): "an org administrator reviews their own applicants",
    ("workbench.meeting_ics", "enterprise"): "a side sees a pair once a broker recommends it",
    ("workbench.meeting_ics", "institute"): "a side sees a pair once a broker recommends it",
}
# What the role gate (matchmaker.accounts.auth.roles_required) says when it refuses a role.
ROLE_GATE_REFUSALS = ("当前角色无权执行此操作", "当前角色无权访问该页面")


@dataclass
class World:
    users: dict = field(default_factory=dict)  # role -> User
    tokens: dict = field(default_factory=dict)  # role -> bearer token
    rows: dict = field(default_factory=dict)  # table -> id of a row URLs may point at
    per_role: dict = field(default_factory=dict)  # (table, role) -> id


@pytest.fixture
def world(app, make_org, make_user, make_achievement, make_need) -> World:
    return build_world(make_org, make_user, make_achievement, make_need)


def build_world(make_org, make_user, make_achievement, make_need) -> World:
    """One user per role, and a row in every table that URLs point at, owned by those users."""
    w = World()
    for role in ROLES:
        w.users[role] = make_user(role)
    w.users["broker"].fields = [field_by_name("机器人与智能制造")]
    target_org = make_org(kind="enterprise", status="pending")
    target_user = make_user("broker", login="target-broker")
    achievement = make_achievement(organization=w.users["institute"].organization)
    need = make_need(organization=w.users["enterprise"].organization)
    run = MatchRun(status="succeeded", requested_by_id=w.users["staff"].id)
    db.session.add(run)
    db.session.flush()
    chunk = MatchChunk(run_id=run.id, direction="need", position=0, listing_ids=[need.id])
    pair = Suggestion(
        need=need,
        achievement=achievement,
        score=0.5,
        run_id=run.id,
        broker_id=w.users["broker"].id,
        terms=[["焊接", 1.0]],
    )
    db.session.add_all([chunk, pair])
    db.session.flush()
    fair = Fair(name="春季对接会", held_on=date.today() + timedelta(days=30), status="open")
    db.session.add(fair)
    db.session.flush()
    meeting = Meeting(fair_id=fair.id, suggestion_id=pair.id, slot=0, table_no=1)
    contract = Contract(
        suggestion_id=pair.id,
        contract_type="技术开发",
        amount=100,
        signed_on=date.today(),
        recorded_by_id=w.users["broker"].id,
    )
    event = PairEvent(suggestion_id=pair.id, to_state="suggested")
    email = OutboxEmail(to_address="a@example.com", subject="s", body="b")
    registration = FairRegistration(fair_id=fair.id, need_id=need.id)
    entry = VocabularyEntry(kind="term", word="协作焊接")
    group = SynonymGroup(words="焊缝跟踪=焊道跟踪")
    db.session.add_all([meeting, contract, event, email, registration, entry, group])
    # A need of its own: the world's need is withdrawn by an allowed write during the test.
    problem_need = make_need(organization=w.users["enterprise"].organization, is_bottleneck=True)
    challenge_rows = _challenge_rows(w, problem_need, achievement)
    for role, user in w.users.items():
        note = Notification(user_id=user.id, kind="test", message="通知")
        db.session.add(note)
        db.session.flush()
        w.per_role[("notifications", role)] = note.id
    db.session.commit()
    for role, user in w.users.items():
        w.tokens[role] = issue_token(user.login)
    w.rows.update(
        organizations=target_org.id,
        users=target_user.id,
        achievements=achievement.id,
        needs=need.id,
        suggestions=pair.id,
        match_runs=run.id,
        match_chunks=chunk.id,
        fairs=fair.id,
        meetings=meeting.id,
        contracts=contract.id,
        pair_events=event.id,
        outbox_emails=email.id,
        fair_registrations=registration.id,
        vocabulary_entries=entry.id,
        synonym_groups=group.id,
        fields=field_by_name("机器人与智能制造").id,
        api_tokens=db.session.scalar(sa.text("SELECT min(id) FROM api_tokens")),
        **challenge_rows,
    )
    return w


def _challenge_rows(w: World, need, achievement) -> dict:
    """A listed, published bottleneck problem with the institute's application to solve it."""
    from matchmaker.challenges.models import (
        ApplicationAchievement,
        ApplicationAttachment,
        BottleneckEntry,
        BottleneckListVersion,
        ChallengeApplication,
        SupportStage,
    )

    problem = BottleneckEntry(need=need, status="listed", year=date.today().year, number=1)
    db.session.add(problem)
    db.session.flush()
    db.session.add(BottleneckListVersion(year=problem.year, version=1, rows=[{"id": problem.id}]))
    application = ChallengeApplication(
        entry=problem,
        lead_org_id=w.users["institute"].organization_id,
        approach="用相控阵超声检测大型铸件内部缺陷的整体方案",
        team="团队",
        budget_asked=50,
        achievements=[ApplicationAchievement(achievement_id=achievement.id)],
        attachments=[
            ApplicationAttachment(
                filename="方案.pdf", content_type="application/pdf", size=3, data=b"pdf"
            )
        ],
    )
    db.session.add(application)
    db.session.flush()
    stage = SupportStage(application_id=application.id, name="首期", amount=10)
    db.session.add(stage)
    db.session.flush()
    return {
        "bottleneck_entries": problem.id,
        "challenge_applications": application.id,
        "challenge_attachments": application.attachments[0].id,
        "challenge_support_stages": stage.id,
    }


def protected_rules(app):
    """(rule, view's allowed roles) for every rule whose view went through @roles_required."""
    for rule in app.url_map.iter_rules():
        roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
        if roles is not None:
            yield rule, roles


def table_for(name: str, values: dict, rule) -> str:
    if name == "listing_id":
        kind = values.get("kinds") or values.get("kind")
        if kind in LISTING_TABLES:
            return LISTING_TABLES[kind]
    if name in PARAM_TABLES:
        return PARAM_TABLES[name]
    guess = name.removesuffix("_id") + "s"
    if name.endswith("_id") and guess in Base.metadata.tables:
        return guess
    pytest.fail(
        f"{rule.rule}: URL parameter <{name}> names no known table; "
        f"add it to PARAM_TABLES in tests/test_roles.py"
    )


def concrete_urls(rule, world: World, role: str | None) -> list[tuple[str, tuple]]:
    """Every URL of a rule (each option of an any() part, ids of rows that exist), with options."""
    needed = sorted(rule.arguments - set(rule.defaults or {}))
    choices = [
        sorted(rule._converters[n].items)
        if isinstance(rule._converters[n], AnyConverter)
        else [None]
        for n in needed
    ]
    urls = []
    for combo in product(*choices):
        values = {n: v for n, v in zip(needed, combo, strict=True) if v is not None}
        options = tuple(values.values())
        for name in needed:
            if name in values:
                continue
            if isinstance(rule._converters[name], IntegerConverter):
                table = table_for(name, values, rule)
                key = (table, role or "staff")
                row_id = (
                    world.per_role.get(key) if table in PER_ROLE_TABLES else world.rows.get(table)
                )
                if row_id is None:
                    pytest.fail(f"{rule.rule}: no row in table {table}; add one in build_world")
                values[name] = row_id
            else:
                values[name] = STRING_PARAMS.get(name, "x")
        urls.append((rule.build(values, append_unknown=False)[1], options))
    return urls


def request_as(app, world: World, role: str | None, method: str, url: str):
    client = app.test_client()
    headers = {}
    if role is not None:
        if url.startswith("/api/"):
            headers["Authorization"] = f"Bearer {world.tokens[role]}"
        else:
            with client.session_transaction() as session:
                session["_user_id"] = world.users[role].get_id()
                session["_fresh"] = True
    body = {"json": {}} if url.startswith("/api/") and method != "GET" else {"data": {}}
    try:
        return client.open(url, method=method, headers=headers, **({} if method == "GET" else body))
    except Exception as e:  # noqa: BLE001 - name the request that broke
        pytest.fail(f"{method} {url} as {role or 'anonymous'} raised {type(e).__name__}: {e}")


def object_level_refusal(response, endpoint: str, role: str, options: tuple) -> bool:
    """A listed refusal by the view itself, not the role gate turning away an allowed role."""
    if any(text in response.get_data(as_text=True) for text in ROLE_GATE_REFUSALS):
        return False
    keys = [(endpoint, role)] + [(endpoint, role, option) for option in options]
    return any(key in OBJECT_LEVEL_403 for key in keys)


def test_every_endpoint_is_protected_or_explicitly_public(app):
    endpoints = set(app.view_functions)
    unprotected = {
        e for e in endpoints if getattr(app.view_functions[e], "allowed_roles", None) is None
    }
    assert unprotected - PUBLIC_ENDPOINTS == set(), (
        "endpoints without @roles_required; protect them or add them to PUBLIC_ENDPOINTS"
    )
    for _, roles in protected_rules(app):
        assert set(roles) <= set(ROLES) | {"*"}


def test_each_role_reaches_exactly_the_endpoints_it_is_allowed(app, world):
    calls = []
    for rule, allowed in protected_rules(app):
        allowed = set(ROLES) if "*" in allowed else set(allowed)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            # Refused identities first: they must change nothing before the allowed ones act.
            for role in [None, *sorted(set(ROLES) - allowed), *sorted(allowed)]:
                for url, options in concrete_urls(rule, world, role):
                    calls.append(
                        (method != "GET", role in allowed, rule, method, role, url, options)
                    )
    calls.sort(key=lambda c: (c[0], c[1]))
    assert calls, "no protected endpoint found"
    problems = []
    for _, is_allowed, rule, method, role, url, options in calls:
        response = request_as(app, world, role, method, url)
        status, who = response.status_code, role or "anonymous"
        if role is None:
            if url.startswith("/api/"):
                ok = status == 401
            else:
                ok = status == 302 and "/auth/login" in response.headers.get("Location", "")
        elif not is_allowed:
            ok = status == 403
        else:
            ok = status not in (401, 403) or (
                status == 403 and object_level_refusal(response, rule.endpoint, role, options)
            )
        if not ok:
            problems.append(f"{method} {url} ({rule.endpoint}) as {who}: {status}")
    assert not problems, "\n".join(problems)


def self_register(app, login: str, **form) -> User:
    """Sign up through the public form, as anyone on the internet can."""
    data = {"login": login, "password": PASSWORD, "password2": PASSWORD, **form}
    response = app.test_client().post("/auth/register", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(sa.select(User).where(User.login == login))


def test_pending_members_count_as_anonymous_on_every_protected_endpoint(app, world):
    """People who asked to join an approved organization, before its administrator approves."""
    pending = World(rows=world.rows, per_role=world.per_role)
    for role in ("institute", "enterprise"):
        org = world.users[role].organization
        user = self_register(app, f"pending-{role}", role=role, organization_id=str(org.id))
        assert user.membership == "pending"
        pending.users[role], pending.tokens[role] = user, issue_token(user.login)
    watched = {
        "need": lambda: db.session.get(Need, world.rows["needs"]).status,
        "achievement": lambda: db.session.get(Achievement, world.rows["achievements"]).status,
        "pair": lambda: db.session.get(Suggestion, world.rows["suggestions"]).state,
        "org": lambda: db.session.get(User, world.users["enterprise"].id).organization.status,
    }
    before = {name: read() for name, read in watched.items()}
    problems = []
    for rule, _ in protected_rules(app):
        if not getattr(app.view_functions[rule.endpoint], "members_only", True):
            continue  # their own account: sign out, change the password
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in pending.users:
                for url, _options in concrete_urls(rule, pending, role):
                    response = request_as(app, pending, role, method, url)
                    if url.startswith("/api/"):
                        ok = response.status_code == 401
                    else:
                        location = response.headers.get("Location", "")
                        ok = response.status_code == 302 and "/auth/login" in location
                    if not ok:
                        problems.append(f"{method} {url} as pending {role}: {response.status_code}")
    assert not problems, "\n".join(problems)
    db.session.expire_all()
    assert {name: read() for name, read in watched.items()} == before


def test_self_registered_accounts_never_reach_broker_or_staff_endpoints(app, world):
    """Someone who founds a new organization through the form (or tries to be a broker)."""
    refused = app.test_client().post(
        "/auth/register",
        data={"login": "would-be-broker", "password": PASSWORD, "password2": PASSWORD}
        | {"role": "broker", "org_name": "自封经纪公司", "org_kind": "agency"},
    )
    assert refused.status_code == 400
    founders = World(rows=world.rows, per_role=world.per_role)
    for role in ("institute", "enterprise"):
        kind = "institute" if role == "institute" else "enterprise"
        user = self_register(
            app, f"founder-{role}", role=role, org_name=f"自注册{role}单位", org_kind=kind
        )
        assert user.role == role and user.organization.status == "pending"
        founders.users[role], founders.tokens[role] = user, issue_token(user.login)
    problems = []
    for rule, allowed in protected_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in founders.users:
                if "*" in allowed or role in allowed:
                    continue
                for url, _options in concrete_urls(rule, founders, role):
                    response = request_as(app, founders, role, method, url)
                    if response.status_code != 403:
                        problems.append(f"{method} {url} as founder {role}: {response.status_code}")
    assert not problems, "\n".join(problems)
