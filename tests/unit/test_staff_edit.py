"""/staff edit (admins; managers within their team), /me (own settings), and the shared validation."""

import pytest
from sqlalchemy import select

from bot.console.driver import ConsoleSession
from handlers.errors import InvalidInput
from handlers.i18n import t
from handlers.services import staff_edit
from storage.db import session_scope
from storage.models import AuditLog, Staff
from tests import factories as f
from tests.factories import NOW


@pytest.fixture
def org(core):
    with session_scope(core.engine) as s:
        mgr = f.staff(s, name="mary", role="manager", team="east")
        f.staff(s, name="alice", team="east", manager=mgr, slack_id="UALICE1")
        f.staff(s, name="bob", team="east", manager=mgr, lang="zh")
        f.staff(s, name="zed", team="west")
        f.staff(s, name="root", role="admin", team=None)
    return core


def chat(core, user):
    return ConsoleSession(core, user=user)


def person(core, name):
    with session_scope(core.engine) as s:
        return s.scalar(select(Staff).where(Staff.name == name))


def audit_fields(core, name):
    with session_scope(core.engine) as s:
        st = s.scalar(select(Staff).where(Staff.name == name))
        return sorted(s.scalars(select(AuditLog.field).where(AuditLog.entity == "staff",
                                                             AuditLog.entity_id == st.id)))


@pytest.mark.parametrize(("changes", "key"), [
    ({"role": "boss"}, "staffedit.err.choice"),
    ({"tz": "Mars/Olympus"}, "staffedit.err.tz"),
    ({"lang": "fr"}, "staffedit.err.choice"),
    ({"reminder_time": "8.30"}, "staffedit.err.reminder"),
    ({"reminder_time": "24:00"}, "staffedit.err.reminder"),
    ({"slack_id": "UALICE1"}, "staffedit.err.taken"),
    ({"slack_id": "alice"}, "staffedit.err.slack_id"),
    ({"telegram_id": "-5"}, "staffedit.err.telegram_id"),
    ({"notify": "telegram"}, "staffedit.err.notify_unlinked"),
    ({"manager": "nobody"}, "staffedit.err.manager"),
    ({"name": "alice"}, "staffedit.err.taken"),
])
def test_validate_rejects_with_a_catalog_key(org, changes, key):
    with session_scope(org.engine) as s:
        bob = s.scalar(select(Staff).where(Staff.name == "bob"))
        with pytest.raises(InvalidInput) as e:
            staff_edit.validate(s, bob, changes)
    assert e.value.key == key
    assert t("en", e.value.key, **e.value.params) and t("zh", e.value.key, **e.value.params)


def test_parse_pairs_english_and_chinese_keys():
    assert staff_edit.parse_pairs("时区=Asia/Tokyo 提醒=8:30 lang=zh notify＝telegram") == {
        "tz": "Asia/Tokyo", "reminder_time": "8:30", "lang": "zh", "notify": "telegram"}
    with pytest.raises(InvalidInput):
        staff_edit.parse_pairs("colour=red")


def test_admin_edits_any_field_with_one_audit_row_each(org):
    out = chat(org, "root").send("/staff edit bob role=agent team=service tz=Europe/Berlin telegram=4242")
    assert "⚠" not in out
    bob = person(org, "bob")
    assert (bob.role, bob.team, bob.tz, bob.telegram_id) == ("agent", "service", "Europe/Berlin", 4242)
    assert audit_fields(org, "bob") == ["role", "team", "telegram_id", "tz"]
    assert t("en", "staffedit.unchanged", name="bob") in chat(org, "root").send("/staff edit bob tz=Europe/Berlin")
    chat(org, "root").send("/staff edit bob 邮箱=Bob@Example.com 提醒=7:05")
    card = chat(org, "root").send("/staff bob")
    assert "bob@example.com" in card and "07:05" in card and t("en", "staffcmd.f.email") in card


def test_bad_value_is_one_line_in_the_callers_language_and_nothing_changes(org):
    out = chat(org, "root").send("/staff edit bob tz=Mars/Olympus role=agent")
    assert t("en", "staffedit.err.tz", value="Mars/Olympus") in out
    assert person(org, "bob").role == "rep" and audit_fields(org, "bob") == []
    out = chat(org, "bob").send("/me 提醒=25:00")
    assert t("zh", "staffedit.err.reminder", value="25:00") in out


def test_manager_edits_own_team_within_team_fields_only(org):
    mary = chat(org, "mary")
    assert "⚠" not in mary.send("/staff edit bob reminder=07:45 role=agent")
    assert person(org, "bob").reminder_time == "07:45"
    assert t("en", "staffedit.err.manager_role", roles="rep, agent") in mary.send("/staff edit bob role=admin")
    assert "⚠" in mary.send("/staff edit bob team=west")
    assert "⚠" in mary.send("/staff edit bob slack=U0BOB1")
    assert "⚠" in mary.send("/staff edit zed tz=UTC")  # another team
    assert "⚠" in chat(org, "alice").send("/staff edit bob tz=UTC")  # reps edit nobody
    assert person(org, "bob").role == "agent" and person(org, "zed").tz == "Asia/Shanghai"


def test_me_shows_and_changes_own_settings_only(org):
    alice = chat(org, "alice")
    out = alice.send("/me")
    assert t("en", "staffedit.me.title") in out and "09:00" in out
    out = alice.send("/me tz=Europe/Berlin reminder=08:30 lang=zh notify=slack")
    assert "⚠" not in out
    me = person(org, "alice")
    assert (me.tz, me.reminder_time, me.lang, me.notify) == ("Europe/Berlin", "08:30", "zh", "slack")
    assert audit_fields(org, "alice") == ["lang", "reminder_time", "tz"]  # notify was already slack
    assert "⚠" in alice.send("/me role=admin")
    assert person(org, "alice").role == "rep"


def test_apply_writes_nothing_for_equal_values(org):
    with session_scope(org.engine) as s:
        bob = s.scalar(select(Staff).where(Staff.name == "bob"))
        assert staff_edit.apply(s, actor_id=None, target=bob, values={"tz": bob.tz}, now=NOW) == []


def test_digest_comes_at_the_reminder_time_set_with_me(org, settings):
    from datetime import UTC, datetime, timedelta

    from scheduler import runner
    from storage.models import FollowUp, Outbox

    with session_scope(org.engine) as s:
        for name in ("alice", "bob"):  # both in Asia/Shanghai, both with a follow-up due
            st = s.scalar(select(Staff).where(Staff.name == name))
            c = f.customer(s, name=f"{name} Ltd", owner=st)
            s.add(FollowUp(customer_id=c.id, date=NOW - timedelta(days=3), method="phone", content="x",
                           staff_id=st.id, next_followup_at=NOW - timedelta(days=1), created_at=NOW))
    assert "⚠" not in chat(org, "alice").send("/me reminder=08:30")

    def digests_at(hh, mm):  # Shanghai is UTC+8
        now = datetime(2026, 11, 23, hh - 8, mm, tzinfo=UTC)
        runner.run_job(org.engine, "followup_digest", now=now, settings=settings, channels={"console": "#s"})
        with session_scope(org.engine) as s:
            keys = list(s.scalars(select(Outbox.key).where(Outbox.key.like("digest:%"), Outbox.status != "skipped")))
            return sorted(st.name for st in s.scalars(select(Staff)) if any(k.startswith(f"digest:{st.id}:")
                                                                             for k in keys))

    assert digests_at(8, 29) == []
    assert digests_at(8, 30) == ["alice"]  # her own 08:30, not the default 09:00
    assert digests_at(9, 0) == ["alice", "bob"]


def test_staff_import_audits_the_people_it_creates_and_the_fields_it_changes(session):
    from handlers.services import staff_import

    boss = f.staff(session, name="boss", role="admin")
    f.staff(session, name="bob")
    rows = [{"name": "王芳", "role": "manager", "team": "east"}, {"name": "bob", "team": "north"}]
    result = staff_import.import_rows(session, rows, actor_id=boss.id, now=NOW,
                                      defaults={"tz": "Asia/Shanghai", "lang": "zh"})
    assert result.created == ["王芳"] and result.updated == ["bob"] and not result.problems
    wang = session.scalar(select(Staff).where(Staff.name == "王芳"))
    made = session.scalars(select(AuditLog).where(AuditLog.entity == "staff", AuditLog.action == "create")).all()
    assert [(a.entity_id, a.actor_id, a.new, a.at) for a in made] == [(wang.id, boss.id, "王芳", NOW)]
    changed = session.scalars(select(AuditLog).where(AuditLog.entity == "staff", AuditLog.action == "update"))
    assert [(a.field, a.new) for a in changed] == [("team", "north")]
