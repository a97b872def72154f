from datetime import timedelta

import pytest

from handlers import actions
from tests.factories import NOW

SECRET = b"k" * 32


def test_actions_token_roundtrip_fits_telegram_callback_data():
    tok = actions.encode("/ticket assign FW2026001 17", scope="c:-1001234567890", secret=SECRET, now=NOW)
    assert len(tok.encode()) <= 64 and tok.isascii()
    assert actions.decode(tok, scopes=["c:-1001234567890"], secret=SECRET, now=NOW) == "/ticket assign FW2026001 17"


def test_actions_token_from_another_chat_is_refused():
    tok = actions.encode("/rate FW2026001 5", scope="c:1003", secret=SECRET, now=NOW)
    with pytest.raises(actions.BadToken):
        actions.decode(tok, scopes=["c:2004"], secret=SECRET, now=NOW)


def test_actions_tampered_command_is_refused():
    tok = actions.encode("/rate FW2026001 5", scope="c:1003", secret=SECRET, now=NOW)
    forged = tok.replace("FW2026001", "FW2026002")
    with pytest.raises(actions.BadToken):
        actions.decode(forged, scopes=["c:1003"], secret=SECRET, now=NOW)
    with pytest.raises(actions.BadToken):
        actions.decode("garbage", scopes=["c:1003"], secret=SECRET, now=NOW)
    with pytest.raises(actions.BadToken):
        actions.decode("/rate FW2026001 5|zz|x" + "y" * 80, scopes=["c:1003"], secret=SECRET, now=NOW)


def test_actions_expired_token_is_refused_as_expired():
    tok = actions.encode("/followups", scope="c:1", secret=SECRET, now=NOW, ttl=timedelta(hours=1))
    assert actions.decode(tok, scopes=["c:1"], secret=SECRET, now=NOW + timedelta(minutes=30))
    with pytest.raises(actions.ExpiredToken):
        actions.decode(tok, scopes=["c:1"], secret=SECRET, now=NOW + timedelta(hours=3))


def test_actions_long_or_non_ascii_commands_do_not_fit():
    assert not actions.fits("/customer tag:高预算 p2")
    assert not actions.fits("/log ABC2026001 " + "x" * 40)
    with pytest.raises(ValueError):
        actions.encode("/customer tag:高预算 p2", scope="c:1", secret=SECRET, now=NOW)
