"""The buttons of a dialog step, and typed labels.

A step's button carries the dialog and step it answers (`phone @log_call.method`; the value first, so the
typed-command equivalent still reads as the answer). A pressed button whose step is not the current one is
stale; one pressed after its dialog ended says so. Typing a button's label (either language, any case) is the
same as pressing it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from handlers.context import Ctx
from handlers.i18n import LANGS
from handlers.views import Action, Reply, Text

_BUTTON = re.compile(r"(.*) @([a-z_]+)\.([a-z_]+)", re.S)


def step_button(dialog: str, step: str, value: str) -> Action:
    """The action of a button of `step`: its value, marked with the dialog and step it answers."""
    return Action(f"{value} @{dialog}.{step}")


def unmark(ctx: Ctx, dialog: str, step: str, text: str) -> str | None:
    """A pressed dialog button → its value; None when it belongs to another step or dialog (stale).
    Typed text is never read as a button (only a decoded token sets `ctx.via_button`)."""
    m = _BUTTON.fullmatch(text) if ctx.via_button else None
    if m is None:
        return text
    return m[1] if (m[2], m[3]) == (dialog, step) else None


def ended_button(ctx: Ctx, text: str) -> Reply | None:
    """A plain-text hook: a dialog's button pressed when no dialog is active any more."""
    if ctx.via_button and _BUTTON.fullmatch(text):
        return Reply(views=(Text(ctx.t("dlg.button_ended")),))
    return None


def typed_choice(ctx: Ctx, choices: Callable[[Ctx, dict], list[tuple[str, str]]] | None, values: dict,
                 text: str) -> str:
    """A typed button label (in either language, any case) → the button's value; other text as it is."""
    if choices is None:
        return text
    typed = text.strip().casefold()
    for lang in dict.fromkeys((ctx.lang, *LANGS)):
        in_lang = ctx if lang == ctx.lang else dataclasses.replace(ctx, lang=lang)
        for label, value in choices(in_lang, values):
            if label.strip().casefold() == typed:
                return value
    return text
