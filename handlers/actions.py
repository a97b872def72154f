"""Button tokens: an `Action`'s command, signed for the chat it was sent to.

A token is `<cmd>|<expiry>|<sig>`: the command text a user could type, the expiry in hours since the epoch
(base 36), and an HMAC-SHA256 over scope, command and expiry (10 base64url chars). The scope names where the
button was sent (`c:<chat>` for a chat or channel, `u:<user>` for a direct message), so a token copied into
another chat fails verification. Tokens are ASCII and at most 64 bytes (Telegram's callback_data limit).

Commands longer than `MAX_CMD` bytes, or not ASCII, are stored server-side (`storage.models.ActionRef`) and the
button carries `#<id>` instead: the router does that before a reply leaves the core (`router.bind_actions`).
A token is never trusted for more than "the user pressed this button": the service checks permissions again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

MAX_TOKEN = 64
MAX_CMD = 40
DEFAULT_TTL = timedelta(days=30)


class BadToken(Exception):
    """Forged, tampered, for another chat, or unreadable."""


class ExpiredToken(BadToken):
    """Signed correctly but past its expiry."""


def fits(cmd: str) -> bool:
    """True when `cmd` can travel in a token as it is."""
    return cmd.isascii() and "|" not in cmd and len(cmd) <= MAX_CMD and cmd.isprintable()


def _hours(dt: datetime) -> int:
    return int(dt.timestamp() // 3600)


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def _sig(secret: bytes, scope: str, cmd: str, exp: str) -> str:
    mac = hmac.new(secret, f"{scope}\x1f{cmd}\x1f{exp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:10]


def encode(cmd: str, *, scope: str, secret: bytes, now: datetime | None = None,
           ttl: timedelta = DEFAULT_TTL) -> str:
    if not fits(cmd):
        raise ValueError(f"command too long or not ASCII for a token: {cmd!r}")
    now = now or datetime.now(UTC)
    exp = _b36(_hours(now + ttl) + 1)
    token = f"{cmd}|{exp}|{_sig(secret, scope, cmd, exp)}"
    assert len(token.encode()) <= MAX_TOKEN, token
    return token


def decode(token: str, *, scopes: list[str] | tuple[str, ...], secret: bytes,
           now: datetime | None = None) -> str:
    """The command in `token` if it was signed for one of `scopes`; raises `BadToken`/`ExpiredToken`."""
    if not token or not token.isascii() or len(token) > MAX_TOKEN or token.count("|") != 2:
        raise BadToken("malformed")  # every token we sign is ASCII: anything else is forged or mangled
    cmd, exp, sig = token.split("|")
    if not any(hmac.compare_digest(sig, _sig(secret, s, cmd, exp)) for s in scopes if s):
        raise BadToken("signature")
    try:
        exp_h = int(exp, 36)
    except ValueError as e:
        raise BadToken("expiry") from e
    now = now or datetime.now(UTC)
    if _hours(now) > exp_h:
        raise ExpiredToken("expired")
    return cmd
