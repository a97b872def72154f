"""Guided dialogs: a declared sequence of steps, driven step by step (chat) or as one form (Slack modal).

A `Dialog` is data: its steps, each with a prompt key, a parser that turns typed text into a stored value
(raising `InvalidInput` with what is wrong), optional choices, and whether it may be skipped. The engine keeps
the state in `DialogState` (platform, chat, user), written in the same unit of work, so a dialog survives a
restart. `back`, `skip` and `cancel` (in English or Chinese, and `/cancel`) work at every step.

A step's buttons carry the step they belong to (`phone @log_call.method`): a button pressed after the dialog
moved on (Back, an answer typed instead) gets "that button is from an earlier step" and the current question
again, never an answer to another question. Typing a button's label (either language) is the same as pressing
it; a customer step that matches several customers offers them as choices.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from handlers.context import Ctx
from handlers.dialogs.buttons import step_button, typed_choice, unmark
from handlers.errors import InvalidInput, UserError
from handlers.lookup import Ambiguous
from handlers.views import Action, Button, Buttons, Form, FormField, Header, Option, Reply, Select, Text
from storage.db import insert_ignore
from storage.models import DialogState

Parser = Callable[[Ctx, str, dict], Any]
Choices = Callable[[Ctx, dict], list[tuple[str, str]]]


@dataclass(frozen=True)
class Step:
    name: str
    prompt_key: str
    parse: Parser | None = None  # (ctx, text, values so far) -> stored value (JSON-able)
    choices: Choices | None = None  # (ctx, values so far) -> [(label, value)]
    optional: bool = False
    multiline: bool = False
    max_length: int = 3000
    hint_key: str = ""
    when: Callable[[Ctx, dict], bool] | None = None  # ask this step only when true


@dataclass(frozen=True)
class Dialog:
    name: str
    title_key: str
    steps: tuple[Step, ...]
    on_done: Callable[[Ctx, dict], Reply]
    submit_key: str = "dlg.submit"


DIALOGS: dict[str, Dialog] = {}

WORDS = {
    "cancel": {"cancel", "/cancel", "取消", "退出"},
    "back": {"back", "/back", "返回", "上一步"},
    "skip": {"skip", "/skip", "跳过", "-"},
}


def register(d: Dialog) -> Dialog:
    if d.name in DIALOGS and DIALOGS[d.name] is not d:
        raise RuntimeError(f"dialog {d.name} registered twice")
    DIALOGS[d.name] = d
    return d


def _word(text: str) -> str | None:
    w = text.strip().lower()
    for k, words in WORDS.items():
        if w in words:
            return k
    return None


# ---------------------------------------------------------------- state rows

def _state(ctx: Ctx) -> DialogState | None:
    # locked: two messages at once in one dialog are taken one after the other (a double send finishes it once)
    return ctx.session.scalar(select(DialogState).where(
        DialogState.platform == ctx.platform, DialogState.chat_ref == ctx.chat_ref,
        DialogState.user_ref == ctx.user_ref).with_for_update())


def active(ctx: Ctx) -> DialogState | None:
    """The live `DialogState` for this chat and user, or None (expired states are dropped)."""
    st = _state(ctx)
    if st is not None and st.expires_at < ctx.now:
        ctx.session.delete(st)
        ctx.session.flush()
        return None
    return st


def clear(ctx: Ctx) -> bool:
    res = ctx.session.execute(delete(DialogState).where(
        DialogState.platform == ctx.platform, DialogState.chat_ref == ctx.chat_ref,
        DialogState.user_ref == ctx.user_ref))
    return bool(res.rowcount)


def _save(ctx: Ctx, dialog: Dialog, step: int, values: dict) -> None:
    st = _state(ctx)
    if st is None:  # insert-or-ignore: the same dialog started twice at once makes one row
        insert_ignore(ctx.session, DialogState, conflict=["platform", "chat_ref", "user_ref"],
                      platform=ctx.platform, chat_ref=ctx.chat_ref, user_ref=ctx.user_ref, dialog=dialog.name,
                      step=step, values="{}", expires_at=ctx.now, updated_at=ctx.now)
        st = _state(ctx)
    st.dialog, st.step, st.values = dialog.name, step, json.dumps(values, ensure_ascii=False, default=str)
    st.expires_at, st.updated_at = ctx.now + ctx.settings.dialog_ttl, ctx.now
    ctx.session.flush()


# ---------------------------------------------------------------- driving

def _next_index(ctx: Ctx, d: Dialog, i: int, values: dict) -> int:
    while i < len(d.steps) and d.steps[i].when is not None and not d.steps[i].when(ctx, values):
        i += 1
    return i


def _prev_index(ctx: Ctx, d: Dialog, i: int, values: dict) -> int:
    i -= 1
    while i > 0 and d.steps[i].when is not None and not d.steps[i].when(ctx, values):
        i -= 1
    return max(i, 0)


def prompt(ctx: Ctx, d: Dialog, i: int, values: dict, *, error: str | None = None,
           picks: tuple = ()) -> Reply:
    step = d.steps[i]
    views: list = []
    if i == 0 and error is None:
        views.append(Header(ctx.t(d.title_key)))
    if error:
        views.append(Text("⚠ " + error))
    views.append(Text(ctx.t(step.prompt_key)))
    if step.hint_key:
        views.append(Text(ctx.t(step.hint_key), muted=True))
    if step.choices:
        opts = step.choices(ctx, values)
        if opts:
            views.append(Buttons(tuple(Button(label, step_button(d.name, step.name, value)) for label, value in opts[:24])))
    if picks:
        views.append(Select(ctx.t("lookup.pick_placeholder"), tuple(
            Option(f"{c.code} {c.name}"[:75], step_button(d.name, step.name, c.code)) for c in picks[:25])))
    controls = []
    if step.optional:
        controls.append(Button(ctx.t("dlg.skip"), step_button(d.name, step.name, "skip")))
    if i > 0:
        controls.append(Button(ctx.t("dlg.back"), step_button(d.name, step.name, "back")))
    controls.append(Button(ctx.t("dlg.cancel"), Action("/cancel"), style="danger"))
    views.append(Buttons(tuple(controls)))
    return Reply(views=tuple(views), expects_text=step.choices is None and not picks)


def form(ctx: Ctx, d: Dialog, prefill: dict | None = None) -> Form:
    prefill = prefill or {}
    fields = []
    for s in d.steps:
        choices = tuple(s.choices(ctx, prefill)) if s.choices else ()
        fields.append(FormField(name=s.name, label=ctx.t(s.prompt_key), optional=s.optional,
                                multiline=s.multiline, choices=choices, value=str(prefill.get(s.name) or ""),
                                hint=ctx.t(s.hint_key) if s.hint_key else "", max_length=s.max_length))
    return Form(dialog=d.name, title=ctx.t(d.title_key), submit=ctx.t(d.submit_key), fields=tuple(fields))


def start(ctx: Ctx, name: str, prefill: dict | None = None) -> Reply:
    """Begin dialog `name`. On a form surface the reply carries the whole `Form`; in chat, the first step.

    `prefill` holds already-parsed values; steps that have one are not asked.
    """
    d = DIALOGS[name]
    values = dict(prefill or {})
    if ctx.surface == "form":
        return Reply(form=form(ctx, d, values))
    i = 0
    while i < len(d.steps) and d.steps[i].name in values:
        i += 1
    i = _next_index(ctx, d, i, values)
    if i >= len(d.steps):
        return d.on_done(ctx, values)
    _save(ctx, d, i, values)
    return prompt(ctx, d, i, values)


def advance(ctx: Ctx, state: DialogState, text: str) -> Reply:
    """Feed one typed answer (or back/skip/cancel) to the active dialog."""
    d = DIALOGS.get(state.dialog)
    if d is None:
        clear(ctx)
        return Reply(views=(Text(ctx.t("dlg.cancelled")),))
    values = json.loads(state.values or "{}")
    i = min(state.step, len(d.steps) - 1)
    step = d.steps[i]
    pressed = unmark(ctx, d.name, step.name, text)
    if pressed is None:
        return prompt(ctx, d, i, values, error=ctx.t("dlg.stale_button"))
    text = pressed
    word = _word(text)
    if word == "cancel":
        clear(ctx)
        return Reply(views=(Text(ctx.t("dlg.cancelled")),))
    if word == "back":
        j = _prev_index(ctx, d, i, values)
        values.pop(d.steps[j].name, None)
        _save(ctx, d, j, values)
        return prompt(ctx, d, j, values)
    if word == "skip":
        if not step.optional:
            return prompt(ctx, d, i, values, error=ctx.t("dlg.required"))
        values[step.name] = None
    else:
        text = text.strip()
        if not text:
            return prompt(ctx, d, i, values, error=ctx.t("dlg.required"))
        if len(text) > step.max_length:
            return prompt(ctx, d, i, values, error=ctx.t("err.too_long", max=step.max_length))
        try:
            values[step.name] = _parse(ctx, step, values, text)
        except Ambiguous as e:  # several customers: each one a choice of this step
            return prompt(ctx, d, i, values, error=ctx.t("lookup.pick", count=len(e.matches)),
                          picks=tuple(e.matches))
        except UserError as e:
            return prompt(ctx, d, i, values, error=ctx.t(e.key, **e.params))
    j = _next_index(ctx, d, i + 1, values)
    if j >= len(d.steps):
        clear(ctx)
        return d.on_done(ctx, values)
    _save(ctx, d, j, values)
    return prompt(ctx, d, j, values)


def _parse(ctx: Ctx, step: Step, values: dict, text: str) -> Any:  # noqa: ANN401
    text = typed_choice(ctx, step.choices, values, text)
    return step.parse(ctx, text, values) if step.parse else text


class FormErrors(Exception):
    """Field errors of a submitted form: `errors` maps step name → message (translated)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("form errors")
        self.errors = errors


def submit(ctx: Ctx, name: str, raw: dict[str, str]) -> Reply:
    """Run every step's parser on a whole form; raise `FormErrors` or finish the dialog."""
    d = DIALOGS.get(name)
    if d is None:
        raise InvalidInput("err.unknown_dialog")
    values: dict = {}
    errors: dict[str, str] = {}
    for s in d.steps:
        if s.when is not None and not s.when(ctx, values):
            continue
        text = (raw.get(s.name) or "").strip()
        if not text:
            if s.optional:
                values[s.name] = None
            else:
                errors[s.name] = ctx.t("dlg.required")
            continue
        if len(text) > s.max_length:
            errors[s.name] = ctx.t("err.too_long", max=s.max_length)
            continue
        try:
            values[s.name] = _parse(ctx, s, values, text)
        except Ambiguous as e:  # a form field cannot offer buttons: name the candidates
            errors[s.name] = ctx.t("dlg.ambiguous", query=text, options="; ".join(
                f"{c.code} {c.name}" for c in e.matches[:8]))
        except UserError as e:
            errors[s.name] = ctx.t(e.key, **e.params)
    if errors:
        raise FormErrors(errors)
    return d.on_done(ctx, values)
