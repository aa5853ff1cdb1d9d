"""Digest e-mail once per recipient and period, and the scheduled tasks that must not double up."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select

from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.notifications.models import Digest, OutboxEmail
from matchmaker.pairs import digests
from matchmaker.pairs import transitions as pairs
from matchmaker.pairs.models import Suggestion
from tests.conftest import using_postgres
from tests.jobs_faults import ROOT, Worker

FIELD = "机器人与智能制造"


@pytest.fixture
def world(make_user, make_need, make_achievement):
    """A broker of the field, one of another field, a recommended and an accepted pair."""
    broker = make_user("broker", display_name="王经纪", email="wang@example.com")
    broker.fields = [field_by_name(FIELD)]
    other = make_user("broker", email="li@example.com")
    other.fields = [field_by_name("生物医药", create=True)]
    db.session.commit()

    def pair(title):
        need = make_need(title=f"{title}需求")
        achievement = make_achievement(title=f"{title}成果")
        row = Suggestion(need=need, achievement=achievement, score=0.7, same_field=True)
        db.session.add(row)
        db.session.commit()
        return row

    new = pair("焊缝跟踪")
    recommended = pair("协作机器人")
    accepted = pair("视觉抓取")
    need_user = make_user("enterprise", org=recommended.need.organization, email="e@example.com")
    pairs.transition(recommended.id, broker.id, "recommended")
    a_need = make_user("enterprise", org=accepted.need.organization, email="n@example.com")
    a_ach = make_user("institute", org=accepted.achievement.organization, email="a@example.com")
    pairs.transition(accepted.id, broker.id, "recommended")
    pairs.transition(accepted.id, a_need.id, "accepted")
    pairs.transition(accepted.id, a_ach.id, "accepted")
    return {
        "broker": broker,
        "other": other,
        "new": new,
        "recommended": recommended,
        "need_user": need_user,
    }


def digest_mail(to=None):
    stmt = select(OutboxEmail).where(OutboxEmail.subject.contains("摘要"))
    if to:
        stmt = stmt.where(OutboxEmail.to_address == to)
    return db.session.scalars(stmt.order_by(OutboxEmail.id)).all()


def test_a_broker_hears_of_new_suggestions_in_their_fields_and_pairs_waiting_on_them(world):
    digests.send_digests()
    [mail] = digest_mail("wang@example.com")
    assert "新建议 1 条" in mail.subject and "待跟进 1 个" in mail.subject
    assert "「焊缝跟踪需求」↔「焊缝跟踪成果」" in mail.body
    assert f"「视觉抓取需求」↔「视觉抓取成果」（{pairs.state_label('accepted')}）" in mail.body
    assert "协作机器人" not in mail.body  # recommended: it waits on the parties, not the broker
    assert "/workbench" in mail.body
    assert digest_mail("li@example.com") == []  # nothing in the other broker's field


def test_an_organization_hears_of_the_pairs_recommended_to_it(world):
    digests.send_digests()
    [mail] = digest_mail("e@example.com")
    assert "新推荐 1 个" in mail.subject
    assert "协作机器人需求" in mail.body and "/my/pairs" in mail.body
    # the organization of the never-recommended pair hears nothing
    assert not [m for m in digest_mail() if "焊缝跟踪" in m.body and "推荐" in m.subject]


def test_a_second_run_in_the_same_period_sends_nothing_more(world):
    first = digests.send_digests()
    second = digests.send_digests()
    assert first["digests"] >= 2 and second["digests"] == 0
    assert second["already_sent"] == first["digests"]
    assert len(digest_mail("wang@example.com")) == 1


def test_the_next_period_gets_its_own_digest(world):
    digests.send_digests()
    digests.send_digests(now=utcnow() + timedelta(days=7))
    periods = db.session.scalars(
        select(Digest.period).where(Digest.recipient_id == world["broker"].id)
    ).all()
    assert len(set(periods)) == 2 and len(digest_mail("wang@example.com")) == 2


def test_two_schedulers_at_once_send_one_digest_per_recipient(app, world):
    barrier = threading.Barrier(2)
    results = []

    def run():
        with app.app_context():
            barrier.wait()
            results.append(digests.send_digests())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    rows = db.session.execute(select(Digest.recipient_kind, Digest.recipient_id)).all()
    assert len(rows) == len(set(rows)) >= 2
    assert len(digest_mail("wang@example.com")) == 1
    assert len(digest_mail("e@example.com")) == 1
    assert sum(r["digests"] for r in results) == len(rows)


def test_the_database_refuses_a_second_digest_for_the_same_recipient_and_period(world):
    from sqlalchemy.exc import IntegrityError

    db.session.add(Digest(recipient_kind="user", recipient_id=1, period="2026-W49"))
    db.session.commit()
    db.session.add(Digest(recipient_kind="user", recipient_id=1, period="2026-W49"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_period_names():
    from datetime import datetime

    assert digests.period_of(datetime(2026, 12, 2, 23, 0)) == "2026-W49"
    assert digests.period_of(datetime(2026, 12, 2, 23, 0), "day") == "2026-12-02"
    with pytest.raises(ValueError, match="DIGEST_PERIOD"):
        digests.period_of(datetime(2026, 12, 2), "month")


@pytest.mark.slow
@pytest.mark.skipif(not using_postgres(), reason="needs TEST_DATABASE_URL=postgresql://...")
def test_two_beat_processes_and_a_real_worker_send_one_digest_per_recipient(app, world, tmp_path):
    redis_url = app.config["REDIS_URL"]
    redis.Redis.from_url(redis_url).flushdb()  # no tasks left over from other tests
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=redis_url,
        MATCHMAKER_INSTANCE=str(tmp_path),
        MATCHMAKER_BEAT_EVERY="1",  # every scheduled task once a second
        SECRET_KEY="beat-test",
    )
    log = tmp_path / "worker.log"
    processes = [Worker(env, log, "beat-test").start().proc]
    try:
        for n in range(2):  # two beat instances started by mistake
            with open(tmp_path / f"beat{n}.log", "ab") as out:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "beat"]
                        + ["-s", str(tmp_path / f"beat{n}-schedule"), "--loglevel=INFO"],
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = log.read_text().count("workers.tasks.send_digests[") if log.exists() else 0
            if runs >= 12:  # six runs' received + succeeded lines: both beats fired repeatedly
                break
            time.sleep(0.5)
        else:
            raise AssertionError(
                f"send_digests did not run often enough\n{log.read_text()[-3000:]}"
            )
    finally:
        for proc in processes:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(10)
    db.session.expire_all()
    for address in ("wang@example.com", "e@example.com"):
        assert len(digest_mail(address)) == 1, address
    assert digest_mail("li@example.com") == []
    for n in range(2):
        assert (
            "Scheduler: Sending due task weekly-digest" in (tmp_path / f"beat{n}.log").read_text()
        )
