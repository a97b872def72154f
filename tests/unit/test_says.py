"""The test helper that checks a reply by catalog key (tests/says.py)."""

from handlers.i18n import t
from tests.says import lead, says


def test_says_matches_the_rendering_with_any_or_given_placeholder_values():
    out = "⚠ " + t("en", "err.too_long", max=4000) + "\nmore"
    assert says(out, "err.too_long") and says(out, "err.too_long", max=4000)
    assert not says(out, "err.too_long", max=5) and not says(out, "dlg.cancelled")


def test_says_in_another_language_and_lead():
    assert says(t("zh", "help.title"), "help.title", lang="zh") and not says(t("zh", "help.title"), "help.title")
    assert t("en", "slack.more", n=3).startswith(lead("slack.more")) and "{" not in lead("slack.more")
