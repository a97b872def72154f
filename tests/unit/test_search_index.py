"""Customer search through the text index (SQLite FTS5 trigram, PostgreSQL pg_trgm) finds exactly what a scan
of every name finds, the SQLite index follows inserts, renames, deletes and a merge (triggers), contacts are
matched on their normalised phone / e-mail, and a search that finds nothing looks its candidates up once."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import case, event, literal, select, text
from sqlmodel import Session

from bot.console.driver import ConsoleSession
from handlers import lookup
from storage import textindex
from storage.db import create_all, make_engine, session_scope
from storage.models import Contact, Customer
from storage.repos import customers as customer_repo
from tests import factories as f
from tests.says import says

CITIES = ("杭州", "上海", "苏州", "深圳")
WORDS = ("云栖", "恒通", "精密", "华泰", "嘉禾", "瑞丰")
LATIN = ("Acme", "Hengtong", "Precision", "Pacific", "Golden", "Bridge", "Summit", "Harbor")
ODD = ("100%纯", "a_b_c", "O'Brien", 'say "hi"', "x/y\\z", "Ünïcode Straße", "ÉCOLE")
FRAGMENTS = ("云栖", "云栖恒", "州云栖", "恒通精密", "acme", "acmeh", "golden", "bridgesum", "ac", "a", "科技",
             "100", "a_b", "obrien", "sayhi", "xyz", "straße", "école", "nothinghere", "%", "_", '"', "'")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("pg_db")
    e = make_engine(f"sqlite:///{tmp_path / 'search.db'}")
    create_all(e)
    request.addfinalizer(e.dispose)
    return e


def names(n: int = 300) -> list[str]:
    rnd = random.Random(5)
    out = []
    for i in range(n):
        if i % 3 == 0:
            out.append(f"{rnd.choice(CITIES)}{rnd.choice(WORDS)}{rnd.choice(WORDS)}科技有限公司")
        elif i % 3 == 1:
            out.append(f"{rnd.choice(LATIN)} {rnd.choice(LATIN)} Trading Co., Ltd.")
        else:
            out.append(f"{rnd.choice(ODD)} {rnd.choice(LATIN)}")
    return out


def fill(engine, customer_names: list[str]) -> None:
    with session_scope(engine) as s:
        for n in customer_names:
            c = f.customer(s, name=n, contact=None)
            c.name_norm = lookup.normalize_name(n)


def scanned(s: Session, fragment: str) -> list[int]:
    """What the search found before the text index: a LIKE over every normalised name."""
    return list(s.scalars(select(Customer.id).where(Customer.name_norm.contains(fragment, autoescape=True))
                          .order_by(Customer.id)))


def indexed(s: Session, fragment: str) -> list[int]:
    return sorted(s.scalars(customer_repo.name_contains(s, fragment)))


def scanned_sharing(s: Session, pieces: list[str], need: int) -> list[tuple[int, str]]:
    score = sum((case((Customer.name_norm.contains(g, autoescape=True), 1), else_=0) for g in pieces), literal(0))
    return [tuple(r) for r in s.execute(select(Customer.id, Customer.name_norm).where(score >= need)
                                        .order_by(score.desc(), Customer.id).limit(200))]


def test_the_text_index_finds_what_a_scan_finds(any_engine):
    fill(any_engine, names())
    with Session(any_engine) as s:
        for frag in FRAGMENTS:
            norm = lookup.normalize_name(frag) or frag
            assert indexed(s, norm) == scanned(s, norm), norm
            got = customer_repo.match_text(s, where=[], name_norm=norm, text=frag, phone=None, limit=1000)
            assert sorted(c.id for c in got.page) == scanned(s, norm) and got.total == len(got.page), norm
            ranked = sorted(got.page, key=lambda c: (c.name_norm != norm, not c.name_norm.startswith(norm),
                                                     len(c.name), c.id))
            assert got.page == ranked, norm  # ranked in SQL: the exact name, then the prefix, then shorter
            second = customer_repo.match_text(s, where=[], name_norm=norm, text=frag, phone=None, offset=2, limit=3)
            assert second.page == ranked[2:5] and second.total == got.total, norm  # only that page is read
        assert indexed(s, "云栖恒") and indexed(s, "acme")  # the data set has hits to compare
        for query in ("Acme Hengtong", "Pacifc Harbr", "Goldn Brige", "Zzyzx Qwerty", "杭州云栖"):
            norm = lookup.normalize_name(query)
            grams = sorted({norm[i:i + 3] for i in range(len(norm) - 2)})[:16]
            need = max(1, len(grams) // 4)
            got = customer_repo.names_sharing(s, where=Customer.id.is_not(None), pieces=grams, need=need)
            assert got == scanned_sharing(s, grams, need), query


def test_the_sqlite_index_uses_fts5_and_postgresql_a_trigram_gin_index(any_engine):
    with any_engine.connect() as c:
        if any_engine.dialect.name == "sqlite":
            assert c.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": textindex.FTS}).scalar()
            plan = " ".join(str(r) for r in c.execute(
                text(f"EXPLAIN QUERY PLAN SELECT rowid FROM {textindex.FTS} WHERE {textindex.FTS} MATCH 'abc'")))
            assert "VIRTUAL TABLE INDEX" in plan
        else:
            c.execute(text("SET enable_seqscan = off"))  # a few rows: make the planner show it can use the index
            plan = " ".join(r[0] for r in c.execute(
                text("EXPLAIN SELECT id FROM customer WHERE name_norm LIKE '%acme%'")))
            assert textindex.PG_INDEX in plan


def test_the_index_follows_insert_rename_delete_and_a_merge(any_engine):
    fill(any_engine, ["Acme Trading", "Golden Bridge", "杭州云栖科技有限公司"])
    with session_scope(any_engine) as s:
        ids = {c.name: c.id for c in s.scalars(select(Customer))}
        new = f.customer(s, name="Summit Harbor", contact=None)
        new.name_norm = lookup.normalize_name(new.name)
        s.flush()
        assert indexed(s, "summit") == [new.id]
        golden = s.get(Customer, ids["Golden Bridge"])
        golden.name, golden.name_norm = "Pacific Bridge", "pacificbridge"  # renamed
        s.flush()
        assert indexed(s, "golden") == [] and indexed(s, "pacific") == [golden.id]
        s.delete(s.get(Customer, ids["Acme Trading"]))
        s.flush()
        assert indexed(s, "acme") == []
    with session_scope(any_engine) as s:  # a merge: one customer's contacts move to the other, the first goes
        keep, gone = s.get(Customer, ids["杭州云栖科技有限公司"]), s.get(Customer, new.id)
        keep.name, keep.name_norm = "杭州云栖峰会科技", "杭州云栖峰会科技"
        s.execute(text("UPDATE contact SET customer_id = :k WHERE customer_id = :g"), {"k": keep.id, "g": gone.id})
        s.delete(gone)
    with Session(any_engine) as s:
        assert indexed(s, "summit") == [] and indexed(s, "云栖峰") == [keep.id] and indexed(s, "云栖科") == []
        for frag in ("acme", "bridge", "pacific", "云栖", "summit", "峰会"):
            assert indexed(s, frag) == scanned(s, frag), frag
    if any_engine.dialect.name == "sqlite":
        with any_engine.connect() as c:  # the FTS5 index is consistent with its content table
            c.execute(text(f"INSERT INTO {textindex.FTS}({textindex.FTS}, rank) VALUES ('integrity-check', 1)"))


def test_contacts_are_found_by_any_spelling_of_their_phone_and_email(any_engine, settings, clock):
    from handlers.router import Core

    core = Core(any_engine, settings, secret=b"s", clock=clock)
    with session_scope(any_engine) as s:
        f.staff(s, name="root", role="admin", team=None)
        c = f.customer(s, name="Harbor Foods", phone="+86 138-1234-5678", email="Buyer@Harbor.Example")
        code = c.code
        ct = s.scalar(select(Contact).where(Contact.customer_id == c.id))
        assert (ct.phone_norm, ct.email_norm) == ("13812345678", "buyer@harbor.example")
    root = ConsoleSession(core, user="root")
    for query in ("13812345678", "+8613812345678", "138 1234 5678", "buyer@harbor.example", "BUYER@HARBOR.EXAMPLE"):
        assert code in root.send(f"/customer {query}"), query
    with session_scope(any_engine) as s:  # changed: the normalised keys follow
        ct = s.scalar(select(Contact).where(Contact.customer_id == c.id))
        ct.phone, ct.email = "13900000000", "sales@harbor.example"
    assert code in root.send("/customer 139-0000-0000") and code in root.send("/customer Sales@Harbor.example")
    assert code not in root.send("/customer buyer@harbor.example")


def test_a_search_that_finds_nothing_looks_its_candidates_up_once(core, monkeypatch):
    with session_scope(core.engine) as s:
        f.staff(s, name="root", role="admin", team=None)
        f.customer(s, name="Hengtong Precision")
    calls = []
    real = customer_repo.names_sharing
    monkeypatch.setattr(customer_repo, "names_sharing", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    out = ConsoleSession(core, user="root").send("/customer Hengtong Qxzv")
    assert says(out, "lookup.not_found_suggest", suggestions="Hengtong Precision")
    assert len(calls) == 1
    calls.clear()
    assert says(ConsoleSession(core, user="root").send("/customer 恒通精密"), "lookup.not_found")
    assert len(calls) == 1


def test_a_list_names_its_owners_in_one_query(core):
    with session_scope(core.engine) as s:
        f.staff(s, name="root", role="admin", team=None)
        for i in range(8):
            rep = f.staff(s, name=f"rep{i}")
            f.customer(s, name=f"Delta Works {i}", owner=rep)
    staff_reads = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001
        if "FROM staff" in statement:
            staff_reads.append(statement)

    event.listen(core.engine, "before_cursor_execute", count)
    out = ConsoleSession(core, user="root").send("/customer delta")
    event.remove(core.engine, "before_cursor_execute", count)
    assert "rep0" in out and "rep7" in out
    assert len(staff_reads) < 4  # the actor, and the owners together (one read per owner: 8 more)
