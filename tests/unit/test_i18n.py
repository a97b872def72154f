import json
import re
import string
from pathlib import Path

import pytest

from handlers import i18n

LOCALES = Path(i18n.__file__).parent / "locales"


def _placeholders(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


def test_catalogs_en_and_zh_have_the_same_keys():
    en, zh = i18n.catalog("en"), i18n.catalog("zh")
    assert sorted(en.keys() - zh.keys()) == []
    assert sorted(zh.keys() - en.keys()) == []


def test_catalogs_same_area_files_in_both_languages():
    en = sorted(p.name for p in (LOCALES / "en").glob("*.json"))
    zh = sorted(p.name for p in (LOCALES / "zh").glob("*.json"))
    assert en == zh


@pytest.mark.parametrize("area", sorted(p.name for p in (LOCALES / "en").glob("*.json")))
def test_catalogs_placeholders_match_between_languages(area):
    en = json.loads((LOCALES / "en" / area).read_text(encoding="utf-8"))
    zh = json.loads((LOCALES / "zh" / area).read_text(encoding="utf-8"))
    for key, text in en.items():
        assert _placeholders(text) == _placeholders(zh[key]), key
        assert text.strip() and zh[key].strip(), key


def test_catalogs_chinese_is_actually_chinese_for_sentences():
    zh = i18n.catalog("zh")
    sentences = [k for k, v in i18n.catalog("en").items()
                 if not k.startswith(("alias.", "usage.", "enum.")) and len(v.split()) >= 4]
    untranslated = [k for k in sentences if not re.search(r"[\u4e00-\u9fff]", zh[k])]
    assert untranslated == []


def test_t_fills_params_and_falls_back_to_key():
    assert "ABC" in i18n.t("en", "router.unknown", verb="ABC")
    assert i18n.t("zh", "no.such.key") == "no.such.key"
    assert i18n.t("zh", "router.unknown") .startswith("没有")  # missing params stay as placeholders
    assert i18n.t("en", "router.unknown", lang="x", verb="v")  # a param named lang is fine


def test_enums_parse_in_either_language():
    assert i18n.parse_enum("method", "电话") == "phone"
    assert i18n.parse_enum("method", "Phone") == "phone"
    assert i18n.parse_enum("feedback", "积极") == "positive"
    assert i18n.parse_enum("ticket_type", "投诉") == "complaint"
    assert i18n.parse_enum("priority", "高") == "high"
    assert i18n.match_enum("priority", "urgent") == "high"
    assert i18n.match_enum("status", "处理中") == "in_progress"
    with pytest.raises(i18n.InvalidInput) as e:
        i18n.parse_enum("method", "telepathy", lang="en")
    assert e.value.key == "err.bad_choice" and "phone" in e.value.params["choices"]


def test_every_enum_value_has_a_label_in_both_languages():
    for kind, values in i18n.ENUMS.items():
        for v in values:
            assert i18n.has(f"enum.{kind}.{v}"), (kind, v)
