"""Benchmark listing search at 100,000 achievements beside a LIKE-scan baseline from the same run.

Run from the project root:
    python -m tests.bench.bench_search [--rows 100000] [--database-url postgresql://.../db]

Without --database-url it uses a SQLite file in a temporary folder. With a PostgreSQL URL it
creates a scratch database next to the given one and drops it afterwards. Texts come from
../shared/data/corpus (titles, abstracts and keywords of Chinese papers), recombined so that
100,000 listings exist; each distinct text is tokenized once.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sqlalchemy as sa  # noqa: E402

from tests.bench.common import read_jsonl, shared_data  # noqa: E402

QUERIES = ("机器人", "材料", "深度学习 图像", "土壤 重金属", "神经网络")


def corpus_texts():
    corpus = shared_data() / "corpus"
    papers = read_jsonl(corpus / "csl_dev_papers.jsonl")
    abstracts = [p["abstract"] for p in papers] + [
        r["abstract"] for r in read_jsonl(corpus / "csldcp_abstracts.jsonl")
    ]
    titles = [p["title"] for p in papers] + [
        r["title"] for r in read_jsonl(corpus / "csl_train_titles.jsonl")
    ]
    keywords = [p.get("keywords", [])[:10] for p in papers]
    return titles, abstracts, keywords


def scratch_database(url: str | None, folder: Path):
    if not url:
        return f"sqlite:///{folder / 'bench.db'}", None
    name = f"mm_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    target = sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return target, drop


def build(app, rows: int) -> None:
    from matchmaker.accounts.models import Organization
    from matchmaker.core.extensions import db
    from matchmaker.listings.models import Achievement, achievement_fields, achievement_terms
    from matchmaker.listings.taxonomy import all_fields, ensure_fields
    from matchmaker.listings.terms import BODY, KEYWORD, TITLE, text_terms

    rng = random.Random(7)
    titles, abstracts, keywords = corpus_texts()
    started = time.perf_counter()
    title_terms = [text_terms(t) for t in titles]
    body_terms = [text_terms(a) for a in abstracts]
    keyword_terms = [text_terms(" ".join(k)) for k in keywords]
    print(
        f"tokenized {len(titles) + len(abstracts)} distinct texts in "
        f"{time.perf_counter() - started:.1f} s"
    )
    db.create_all()
    ensure_fields()
    field_ids = [f.id for f in all_fields()]
    regions = ["沈阳市", "大连市", "鞍山市", "北京市", "上海市", "深圳市"]
    orgs = [
        {
            "id": i + 1,
            "kind": rng.choice(["university", "institute"]),
            "name": f"研究院{i}",
            "region": rng.choice(regions),
            "status": "approved",
            "contact_name": "",
            "contact_phone": "",
            "contact_email": "",
            "created_at": datetime(2026, 1, 1),
        }
        for i in range(300)
    ]
    db.session.execute(sa.insert(Organization), orgs)
    db.session.commit()
    started = time.perf_counter()
    now = datetime(2026, 11, 1)
    batch, links, terms = [], [], []
    conn = db.session.connection()

    placeholder = "%s" if db.engine.dialect.name == "postgresql" else "?"
    insert_terms = (
        f"INSERT INTO achievement_terms (listing_id, term, weight, published, published_at) "
        f"VALUES ({placeholder}, {placeholder}, {placeholder}, {placeholder}, {placeholder})"
    )

    def flush():
        conn.execute(sa.insert(Achievement.__table__), batch)
        conn.execute(sa.insert(achievement_fields), links)
        raw = conn.connection.dbapi_connection
        cursor = raw.cursor()
        if db.engine.dialect.name == "postgresql":
            with cursor.copy(
                "COPY achievement_terms (listing_id, term, weight, published, published_at) "
                "FROM STDIN"
            ) as copy:
                for row in terms:
                    copy.write_row(row)
        else:
            cursor.executemany(insert_terms, terms)
        cursor.close()
        batch.clear(), links.clear(), terms.clear()

    for i in range(rows):
        t, a, k = i % len(titles), (i * 7) % len(abstracts), i % len(keywords)
        low = Decimal(rng.randrange(0, 500))
        published = bool(i % 10)
        batch.append(
            {
                "id": i + 1,
                "title": titles[t][:200],
                "description": abstracts[a],
                "keywords": keywords[k],
                "contact_name": "",
                "contact_phone": "",
                "status": "published" if published else "draft",
                "review_note": "",
                "revision": 1,
                "created_at": now,
                "updated_at": now,
                "organization_id": 1 + i % len(orgs),
                "published_at": now - timedelta(minutes=i),
                "summary": "",
                "maturity": rng.choice(["研发", "小试", "中试", "批量生产", "产业化", None]),
                "patents": [],
                "transfer_modes": rng.sample(["转让", "许可", "作价入股", "合作开发"], 2),
                "price_min": low,
                "price_max": low + rng.randrange(0, 300),
            }
        )
        links.append({"achievement_id": i + 1, "field_id": field_ids[i % len(field_ids)]})
        weights = {}
        for words, weight in (
            (body_terms[a], BODY),
            (keyword_terms[k], KEYWORD),
            (title_terms[t], TITLE),
        ):
            for w in words:
                weights[w] = max(weights.get(w, 0), weight)
        # The terms copy the listing's publication, as services/listing_index writes them.
        listed = (published, batch[-1]["published_at"] if published else None)
        terms += [(i + 1, w, v, *listed) for w, v in weights.items()]
        if len(batch) == 2000:
            flush()
    if batch:
        flush()
    db.session.commit()
    # A live database is vacuumed and analyzed by autovacuum; do it now rather than wait.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as autocommit:
        autocommit.execute(
            sa.text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE")
        )
    count = db.session.scalar(sa.select(sa.func.count()).select_from(achievement_terms))
    print(
        f"inserted {rows} achievements and {count} search terms in "
        f"{time.perf_counter() - started:.1f} s"
    )


def timed(fn, runs: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def measure(app) -> None:
    from matchmaker.accounts.models import User
    from matchmaker.core.extensions import db
    from matchmaker.listings.models import Achievement
    from matchmaker.listings.search import parse_filters, search

    user = db.session.scalar(sa.select(User).where(User.login == "bench"))
    if user is None:
        user = User(login="bench", password_hash="x", role="broker")
        db.session.add(user)
        db.session.commit()

    def ours(args, page=1):
        return lambda: search("achievement", user, parse_filters("achievement", args), page, 20)

    def baseline(word):
        # What a plain implementation does: substring scans of title, keywords and description.
        def run():
            like = f"%{word}%"
            clause = sa.or_(
                Achievement.title.like(like),
                Achievement.description.like(like),
                sa.cast(Achievement.keywords, sa.String).like(like),
            )
            stmt = sa.select(Achievement).where(Achievement.status == "published", clause)
            total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
            rows = db.session.scalars(
                stmt.order_by(Achievement.published_at.desc()).limit(20)
            ).all()
            return total, rows

        return run

    print(f"\n{'query':<34}{'ours ms':>9}{'hits':>8}{'LIKE-scan ms':>14}{'hits':>8}")
    cases = [("(no query) first page", {}, None), ("(no query) page 50", {"page": 50}, None)]
    cases += [(f"q={q}", {"q": q}, q if " " not in q else None) for q in QUERIES]
    cases.append(
        (
            "q=机器人 + field + price 100–300",
            {"q": "机器人", "field": "2", "min": "100", "max": "300"},
            None,
        )
    )
    cases.append(("field + mode + region", {"field": "3", "mode": "许可", "region": "沈阳"}, None))
    for label, args, like_word in cases:
        page = args.pop("page", 1)
        ms, result = timed(ours(args, page))
        line = f"{label:<34}{ms:>9.1f}{result.total:>8}"
        if like_word:
            base_ms, (base_total, _) = timed(baseline(like_word), runs=3)
            line += f"{base_ms:>14.1f}{base_total:>8}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--keep", type=Path, default=None, help="SQLite file to build once and measure again"
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="use --database-url itself (no scratch database); build only if it is empty",
    )
    args = parser.parse_args()
    from config import TestConfig
    from matchmaker.app import create_app
    from matchmaker.core.extensions import db

    with tempfile.TemporaryDirectory() as folder:
        if args.keep:
            url, drop = f"sqlite:///{args.keep.resolve()}", None
            reuse = args.keep.exists()
        elif args.in_place:
            url, drop = args.database_url, None
            probe = sa.create_engine(url)
            reuse = sa.inspect(probe).has_table("achievements")
            probe.dispose()
        else:
            url, drop = scratch_database(args.database_url, Path(folder))
            reuse = False
        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = url
        config.INSTANCE_DIR = Path(folder)
        app = create_app(config)
        try:
            with app.app_context():
                print(f"database: {db.engine.dialect.name}, rows: {args.rows}")
                if not reuse:
                    build(app, args.rows)
                measure(app)
                db.session.remove()
                db.engine.dispose()
        finally:
            if drop:
                drop()


if __name__ == "__main__":
    main()
