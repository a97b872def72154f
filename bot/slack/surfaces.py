"""Views (modals and the App Home): a dialog's `Form` as a modal, any `Reply` as a read-only modal, the Home tab.

A form modal's `private_metadata` carries the dialog name and the channel it was started from (JSON), its
blocks are `input` blocks whose `block_id` is the dialog step's name, so field errors map back one to one.
"""

from __future__ import annotations

import json

from bot.safe_text import clean
from bot.slack import limits as L
from bot.slack.render import Signer, Stash, blocks_of, guard
from handlers.i18n import t
from handlers.views import Form, FormField, Reply

FORM_CALLBACK = "crm_form"
VIEW_CALLBACK = "crm_view"
ACTION_ID = "v"


def _select(f: FormField) -> dict | None:
    """A select for a field with choices, or None when Slack could not take them (typed input instead)."""
    values = [clean(v) for _, v in f.choices]
    if not values or len(values) > L.OPTIONS or not all(0 < len(v) <= L.OPTION_VALUE for v in values):
        return None
    options = [{"text": L.plain(label, L.OPTION_TEXT), "value": v} for (label, _), v in zip(f.choices, values,
                                                                                           strict=True)]
    el: dict = {"type": "static_select", "action_id": ACTION_ID, "options": options}
    initial = next((o for o in options if o["value"] == clean(f.value)), None)
    if initial is not None:
        el["initial_option"] = initial
    return el


def _input_element(f: FormField) -> dict:
    el = _select(f)
    if el is not None:
        return el
    max_len = min(max(f.max_length, 1), L.INPUT_MAX)
    el = {"type": "plain_text_input", "action_id": ACTION_ID, "multiline": f.multiline, "max_length": max_len}
    if clean(f.value):
        el["initial_value"] = clean(f.value)[:max_len]
    return el


def input_block(f: FormField) -> dict:
    block = {"type": "input", "block_id": f.name[:255], "optional": f.optional,
             "label": L.plain(f.label, L.LABEL), "element": _input_element(f)}
    if f.hint:
        block["hint"] = L.plain(f.hint, L.HINT)
    return block


def metadata(dialog: str, channel: str, state: str = "") -> str:
    s = json.dumps({"d": dialog, "c": channel, "s": clean(state)}, ensure_ascii=False)
    return s if len(s) <= L.PRIVATE_METADATA else json.dumps({"d": dialog, "c": channel, "s": ""})


def read_metadata(s: str) -> dict:
    try:
        data = json.loads(s or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def form_modal(form: Form, *, channel: str, lang: str) -> dict:
    blocks = [input_block(f) for f in form.fields][: L.BLOCKS_VIEW]
    return {"type": "modal", "callback_id": FORM_CALLBACK, "title": L.plain(form.title, L.MODAL_TITLE),
            "submit": L.plain(form.submit or t(lang, "slack.submit"), L.MODAL_TITLE),
            "close": L.plain(t(lang, "slack.close"), L.MODAL_TITLE),
            "private_metadata": metadata(form.dialog, channel, form.state), "blocks": blocks}


def blocks_modal(blocks: list[dict], *, lang: str, channel: str = "", stash: Stash | None = None,
                 title: str = "") -> dict:
    blocks = guard(blocks, max_blocks=L.BLOCKS_VIEW, lang=lang, stash=stash) or [
        {"type": "section", "text": {"type": "mrkdwn", "text": L.escape(t(lang, "slack.done"))}}]
    return {"type": "modal", "callback_id": VIEW_CALLBACK, "title": L.plain(title or t(lang, "slack.title"),
                                                                           L.MODAL_TITLE),
            "close": L.plain(t(lang, "slack.close"), L.MODAL_TITLE),
            "private_metadata": metadata("", channel), "blocks": blocks}


def reply_modal(reply: Reply, *, sign: Signer, lang: str, channel: str = "", stash: Stash | None = None) -> dict:
    """A reply shown in a modal (after a form is submitted, or a button pressed in the App Home)."""
    return blocks_modal(blocks_of(reply, sign=sign, lang=lang), lang=lang, channel=channel, stash=stash)


def home_view(sections: list[Reply], *, sign: Signer, lang: str, stash: Stash | None = None) -> dict:
    blocks: list[dict] = []
    for r in sections:
        if blocks:
            blocks.append({"type": "divider"})
        blocks.extend(blocks_of(r, sign=sign, lang=lang))
    return {"type": "home", "blocks": guard(blocks, max_blocks=L.BLOCKS_VIEW, lang=lang, stash=stash)}


def form_values(state_values: dict) -> dict[str, str]:
    """`view.state.values` → {step name: typed text or chosen value} (modal input is not HTML-escaped)."""
    out: dict[str, str] = {}
    for block_id, elements in (state_values or {}).items():
        for el in elements.values():
            if el.get("type") == "static_select" or "selected_option" in el:
                out[block_id] = ((el.get("selected_option") or {}).get("value")) or ""
            else:
                out[block_id] = el.get("value") or ""
    return out
