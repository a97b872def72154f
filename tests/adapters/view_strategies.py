"""Hypothesis strategies for neutral views (handlers/views.py): every view type, hostile text, odd sizes.

Text mixes what breaks renderers: lone surrogates, emoji (two UTF-16 units), 8 KB labels, empty and blank
strings, Slack's `<!channel>`/`<@U…>` and HTML/Markdown metacharacters. Actions are what the core hands an
adapter: a command that fits a button token, or a `#id` reference to a stored one (handlers.notify.bind_actions
binds every longer action before a reply is rendered).
"""

from __future__ import annotations

import dataclasses
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from handlers.views import (
    Action,
    Button,
    Buttons,
    Confirm,
    Error,
    Fields,
    Form,
    FormField,
    Header,
    ListItem,
    ListPage,
    Option,
    Reply,
    Select,
    Text,
)

EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES") or 0)  # opt-in: more examples than CI's modest default

NASTY = ("<!channel>", "<@U012AB3CD>", "<!here|here>", "<https://evil.example|click>", "&amp;", "&lt;b&gt;",
         "<b>", "</i>", "<script>", "*bold*", "_it_", "~s~", "`code`", "```", "> quote", "[x](y)", "&", "<", ">",
         "\\", "\n", "\r\n", "\t", " ", "\u200b", "\u202e", "\ufeff", "\x00", "🚨", "👨‍👩‍👧‍👦", "🇨🇳", "合力环保",
         "é", "\U0001f600" * 3, "\ud800", "\udfff", "\udbff", "·", "…")

_piece = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=12),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2),
    st.text(st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), min_size=1, max_size=4),
)
short_text = st.lists(_piece, max_size=6).map("".join)
# a long text: one piece repeated (an 8 KB label, 5,000 emoji, 3,000 '&'), sometimes with line breaks
long_text = st.builds(lambda p, n, sep: (p + sep) * n, st.lists(_piece, min_size=1, max_size=3).map("".join),
                      st.integers(100, 3000), st.sampled_from(("", " ", "\n")))
any_text = st.one_of(short_text, short_text, short_text, long_text, st.sampled_from(("", " ", "\n\n", "\u200b")))

_cmd = st.from_regex(r"/[a-z]{1,8}( [A-Za-z0-9]{1,9}){0,3}", fullmatch=True).filter(lambda c: len(c) <= 40)
actions = st.one_of(_cmd, st.integers(1, 10**12).map(lambda n: f"#{n}")).map(Action)
buttons = st.builds(Button, any_text, actions, st.sampled_from((None, "primary", "danger")))


def _many(strategy: st.SearchStrategy, big: int) -> st.SearchStrategy:
    """Usually a few, sometimes many (`big`/2 to `big`): keyboards and selects beyond the platform caps. The
    many are copies of a few drawn ones (numbered when they are labels), which keeps generation fast."""

    def copies(few: list, n: int) -> tuple:
        return tuple(few[i % len(few)] for i in range(n)) if few else ()

    return st.one_of(st.lists(strategy, max_size=4).map(tuple),
                     st.builds(copies, st.lists(strategy, min_size=1, max_size=3), st.integers(big // 2, big)))


list_items = st.builds(ListItem, any_text, any_text, _many(buttons, 12))
_choices = _many(st.tuples(any_text, st.text(max_size=200)), 160)
_form_fields = st.lists(
    st.builds(FormField, st.from_regex(r"[a-z_]{1,20}", fullmatch=True), any_text, st.booleans(), st.booleans(),
              _choices, any_text, any_text, st.integers(-5, 10_000)),
    max_size=4, unique_by=lambda f: f.name)


def _numbered_fields(few: list[FormField], n: int) -> tuple[FormField, ...]:
    """Many fields (step names are unique in a dialog)."""
    return tuple(dataclasses.replace(few[i % len(few)], name=f"f{i}") for i in range(n)) if few else ()


form_fields = st.one_of(_form_fields.map(tuple), st.builds(_numbered_fields, _form_fields.filter(bool),
                                                           st.integers(50, 110)))
forms = st.builds(Form, st.just("log_call"), any_text, any_text, form_fields, any_text)

views = st.one_of(
    st.builds(Header, any_text),
    st.builds(Text, any_text, st.booleans()),
    st.builds(Error, any_text),
    st.builds(Fields, _many(st.tuples(any_text, any_text), 30)),
    st.builds(Buttons, _many(buttons, 130)),
    st.builds(Select, any_text, _many(st.builds(Option, any_text, actions, any_text), 260)),
    st.builds(ListPage, any_text, _many(list_items, 60), st.integers(1, 99), st.integers(1, 99),
              st.integers(0, 10**6), st.none() | actions, st.none() | actions, any_text, any_text, any_text,
              any_text),
    st.builds(Confirm, any_text, buttons, buttons),
    forms,
)
_small_views = st.one_of(st.builds(Header, short_text), st.builds(Text, short_text, st.booleans()),
                        st.builds(Buttons, st.lists(buttons, max_size=3).map(tuple)))
# many views (over 50 blocks) are small ones: many views each with many parts would only be slow
replies = st.builds(Reply, st.one_of(st.lists(views, max_size=5).map(tuple), _many(_small_views, 70)),
                    st.booleans(), st.booleans(), st.none(), any_text)


def fuzz_settings(default: int) -> settings:
    """A fixed seed and `default` examples in CI; `CRM_FUZZ_EXAMPLES=N` for a longer, random run."""
    return settings(max_examples=EXAMPLES or default, derandomize=not EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])
