"""Audit rows are never skipped: every follow-up change writes one, and a wrong call to the audit log is
loud (it raises and the unit of work is not committed), never silently dropped."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.context import Ctx
from handlers.services import audit
from handlers.services import followups as svc
from storage.models import AuditLog
from tests import factories as f
from tests.factories import NOW


def ctx_for(session, settings, staff) -> Ctx:
    return Ctx(session=session, now=NOW, settings=settings, platform="console", chat_ref=f"@{staff.name}",
               user_ref=staff.name, lang=staff.lang, staff=staff)


def test_every_followup_change_is_audited(session, settings):
    alice = f.staff(session, name="alice")
    c = f.customer(session, name="Audit Co", owner=alice)
    ctx = ctx_for(session, settings, alice)
    fu = svc.log_followup(ctx, customer=c, method="phone", content="first call")
    svc.edit_followup(ctx, fu.id, {"content": "first call, budget 60万"})
    svc.undo_followup(ctx, fu.id)
    rows = [(a.action, a.entity, a.entity_id, a.entity_code, a.field, a.old, a.new, a.actor_id)
            for a in session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert rows == [("create", "followup", fu.id, c.code, None, None, None, alice.id),
                    ("update", "followup", fu.id, c.code, "content", "first call", "first call, budget 60万",
                     alice.id),
                    ("delete", "followup", fu.id, c.code, None, None, None, alice.id)]


def test_a_broken_audit_call_is_loud(session, settings, monkeypatch):
    alice = f.staff(session, name="alice")
    c = f.customer(session, name="Loud Co", owner=alice)

    def record(session, *, unexpected):  # noqa: ANN001, ANN202 - a signature the caller does not match
        raise AssertionError("unreachable")

    monkeypatch.setattr(audit, "record", record)
    with pytest.raises(TypeError):
        svc.log_followup(ctx_for(session, settings, alice), customer=c, method="phone", content="hi")
