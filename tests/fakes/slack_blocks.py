"""Block Kit limits as Slack enforces them (docs.slack.dev/reference/block-kit; shared/platforms.md §1).

Written independently of bot/slack/limits.py: the fake Slack answers `invalid_blocks` with these problems, so a
renderer that breaks a limit fails its test the way it would fail in production.
"""

from __future__ import annotations

import re
from typing import Any


def _text_len(obj: Any) -> int:
    if isinstance(obj, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else _text_len(v)
                   for k, v in obj.items() if k not in ("options", "initial_option"))
    if isinstance(obj, list):
        return sum(_text_len(x) for x in obj)
    return 0


def _lone_surrogates(obj: Any) -> bool:
    """A string Slack cannot take: a lone surrogate is not valid Unicode (invalid JSON text for the API)."""
    if isinstance(obj, str):
        return re.search("[\ud800-\udfff]", obj) is not None
    if isinstance(obj, dict):
        return any(_lone_surrogates(v) for v in obj.values())
    if isinstance(obj, list):
        return any(_lone_surrogates(v) for v in obj)
    return False


def _plain(p: list, where: str, obj: Any, n: int, *, required: bool = True) -> None:
    if obj is None:
        if required:
            p.append(f"{where}: missing")
        return
    if obj.get("type") != "plain_text":
        p.append(f"{where}: must be plain_text")
    s = obj.get("text", "")
    if not s or len(s) > n:
        p.append(f"{where}: length {len(s)} not in 1..{n}")


def _text(p: list, where: str, obj: Any, n: int) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        p.append(f"{where}: not a text object")
        return
    s = obj.get("text", "")
    if not s or len(s) > n:
        p.append(f"{where}: length {len(s)} not in 1..{n}")


def _option(p: list, where: str, o: dict) -> None:
    _plain(p, where + ".text", o.get("text"), 75)
    if not o.get("value") or len(o["value"]) > 150:
        p.append(f"{where}.value: length not in 1..150")
    if "description" in o:
        _plain(p, where + ".description", o["description"], 75)


def _element(p: list, where: str, el: dict) -> None:
    aid = el.get("action_id", "")
    if len(aid) > 255:
        p.append(f"{where}.action_id: longer than 255")
    kind = el.get("type")
    if kind == "button":
        _plain(p, where + ".text", el.get("text"), 75)
        if len(el.get("value", "")) > 2000:
            p.append(f"{where}.value: longer than 2000")
        if el.get("style") not in (None, "primary", "danger"):
            p.append(f"{where}.style: bad")
    elif kind == "static_select":
        opts = el.get("options") or []
        if not 1 <= len(opts) <= 100:
            p.append(f"{where}.options: {len(opts)} not in 1..100")
        for i, o in enumerate(opts):
            _option(p, f"{where}.options[{i}]", o)
        if "placeholder" in el:
            _plain(p, where + ".placeholder", el["placeholder"], 150)
        if "initial_option" in el and el["initial_option"] not in opts:
            p.append(f"{where}.initial_option: not one of the options")
    elif kind == "plain_text_input":
        mx = el.get("max_length", 3000)
        if not 1 <= mx <= 3000:
            p.append(f"{where}.max_length: {mx} not in 1..3000")
        if len(el.get("initial_value", "")) > mx:
            p.append(f"{where}.initial_value: longer than max_length")
    else:
        p.append(f"{where}: unexpected element type {kind}")


def _block(p: list, where: str, b: dict, surface: str) -> None:
    kind = b.get("type")
    if len(b.get("block_id", "")) > 255:
        p.append(f"{where}.block_id: longer than 255")
    if kind == "section":
        if "text" not in b and "fields" not in b:
            p.append(f"{where}: section needs text or fields")
        if "text" in b:
            _text(p, where + ".text", b["text"], 3000)
        fields = b.get("fields")
        if fields is not None:
            if not 1 <= len(fields) <= 10:
                p.append(f"{where}.fields: {len(fields)} not in 1..10")
            for i, f in enumerate(fields):
                _text(p, f"{where}.fields[{i}]", f, 2000)
        if "accessory" in b:
            _element(p, where + ".accessory", b["accessory"])
    elif kind == "header":
        _plain(p, where + ".text", b.get("text"), 150)
    elif kind == "context":
        els = b.get("elements") or []
        if not 1 <= len(els) <= 10:
            p.append(f"{where}.elements: {len(els)} not in 1..10")
        for i, e in enumerate(els):
            _text(p, f"{where}.elements[{i}]", e, 3000)
    elif kind == "actions":
        els = b.get("elements") or []
        if not 1 <= len(els) <= 25:
            p.append(f"{where}.elements: {len(els)} not in 1..25")
        ids = [e.get("action_id") for e in els if e.get("action_id")]
        if len(ids) != len(set(ids)):
            p.append(f"{where}: action_id not unique in block")
        for i, e in enumerate(els):
            _element(p, f"{where}.elements[{i}]", e)
    elif kind == "input":
        if surface == "message":
            p.append(f"{where}: input blocks only in views")
        _plain(p, where + ".label", b.get("label"), 2000)
        if "hint" in b:
            _plain(p, where + ".hint", b["hint"], 2000)
        _element(p, where + ".element", b.get("element") or {})
    elif kind != "divider":
        p.append(f"{where}: unexpected block type {kind}")


def blocks_problems(blocks: list[dict], surface: str) -> list[str]:
    p: list[str] = ["invalid_json: lone surrogate in blocks"] if _lone_surrogates(blocks) else []
    cap = 50 if surface == "message" else 100
    if len(blocks) > cap:
        p.append(f"no more than {cap} items allowed [json-pointer:/blocks] ({len(blocks)})")
    ids = [b.get("block_id") for b in blocks if b.get("block_id")]
    if len(ids) != len(set(ids)):
        p.append("block_id not unique")
    for i, b in enumerate(blocks):
        _block(p, f"/blocks/{i}", b, surface)
    if surface == "message" and _text_len(blocks) > 13000:
        p.append(f"msg_blocks_too_long ({_text_len(blocks)} characters)")
    return p


def message_problems(args: dict) -> list[str]:
    text, blocks = args.get("text"), args.get("blocks")
    p: list[str] = []
    if not text and not blocks:
        p.append("no_text")
    if text and _lone_surrogates(text):
        p.append("invalid_json: lone surrogate in text")
    if text and len(text) > 4000:
        p.append(f"text: {len(text)} characters (Slack recommends at most 4000; truncates above 40000)")
    return p + blocks_problems(blocks or [], "message")


def view_problems(view: dict) -> list[str]:
    p: list[str] = ["invalid_json: lone surrogate in view"] if _lone_surrogates(
        {k: v for k, v in view.items() if k != "blocks"}) else []
    kind = view.get("type")
    if kind == "modal":
        _plain(p, "title", view.get("title"), 24)
        _plain(p, "close", view.get("close"), 24, required=False)
        has_input = any(b.get("type") == "input" for b in view.get("blocks") or [])
        _plain(p, "submit", view.get("submit"), 24, required=has_input)
    elif kind != "home":
        p.append(f"type: {kind}")
    if len(view.get("private_metadata", "")) > 3000:
        p.append("private_metadata: longer than 3000")
    if len(view.get("callback_id", "")) > 255:
        p.append("callback_id: longer than 255")
    return p + blocks_problems(view.get("blocks") or [], "view")
