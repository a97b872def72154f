"""Every end-to-end run is also a log audit: its log, written as a `LOG_FORMAT=json` bot writes it (bot/logs.py,
INFO and up), must be one JSON object per line and must hold no secret (tokens, signing secrets), no phone
number or e-mail address, and no message text a user typed (each inbound text the core handled is recorded and
looked for)."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from bot import logs
from handlers import router
from tests.fakes.slack_api import TOKEN as SLACK_TOKEN
from tests.fakes.slack_fixtures import SECRET as SLACK_SECRET
from tests.fakes.telegram_api import FakeTelegram

SECRETS = (SLACK_TOKEN, SLACK_SECRET, FakeTelegram().token, "proc-secret", "test-secret")
PHONE = re.compile(r"(?<!\d)1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)|\+\d{2}[ \d-]{8,}")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
MIN_TEXT = 10  # shorter inputs ("/help", "yes") are words any log line may contain


def typed_parts(text: str) -> list[str]:
    """What of an inbound text would be a leak: the text itself, and a command's arguments."""
    text = text.strip()
    parts = [text]
    if text.startswith("/"):
        parts.append(text.partition(" ")[2].strip())
    return [p for p in parts if len(p) >= MIN_TEXT]


@pytest.fixture(autouse=True)
def log_audit(monkeypatch):  # noqa: ANN001, ANN201
    typed: list[str] = []
    real = router.cleaned

    def recording(inbound):  # noqa: ANN001, ANN202
        for value in [inbound.text or "", *((inbound.form or {}).values())]:
            if isinstance(value, str):
                typed.extend(typed_parts(value))
        return real(inbound)

    monkeypatch.setattr(router, "cleaned", recording)
    out = io.StringIO()
    handler = logs.make_handler("json")
    handler.setStream(out)  # type: ignore[attr-defined]
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO) if level else logging.INFO)
    try:
        yield typed
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    written = out.getvalue()
    lines = [json.loads(ln) for ln in written.splitlines() if ln.strip()]  # each line one JSON object
    assert all({"time", "level", "event"} <= set(ln) for ln in lines)
    for secret in SECRETS:
        assert secret not in written, f"a secret reached the log: {secret[:6]}…"
    assert not PHONE.search(written), PHONE.search(written)
    assert not EMAIL.search(written), EMAIL.search(written)
    leaked = sorted({t for t in typed if t in written})
    assert not leaked, f"message text reached the log: {leaked[:3]}"
