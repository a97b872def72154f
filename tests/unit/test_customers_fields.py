"""Service-level tests: argument splitting, validators, duplicates, the audit record."""

import pytest
from sqlalchemy import select

from handlers.context import Ctx
from handlers.errors import InvalidInput
from handlers.services import audit
from handlers.services.customer_fields import (
    _parse_date,
    parse_amount,
    parse_email,
    parse_industry,
    parse_phone,
    parse_tags,
    split_args,
)
from handlers.services.customers import find_duplicates
from storage.models import AuditLog
from tests import factories as f
from tests.factories import NOW


@pytest.fixture
def ctx(session, settings):
    st = f.staff(session, name="alice")
    return Ctx(session=session, now=NOW, settings=settings, platform="console", chat_ref="@alice",
               user_ref="alice", lang="en", staff=st)


def test_split_args_handles_quotes_chinese_quotes_and_unknown_keys():
    keys = {"name": "name", "名称": "name", "phone": "phone"}
    pos, kv = split_args('ABC name="杭州 云栖" x=y phone=138', keys)
    assert pos == ["ABC", "x=y"] and kv == {"name": "杭州 云栖", "phone": "138"}
    assert split_args("名称＝“星河 贸易”", keys)[1] == {"name": "星河 贸易"}
    assert split_args("name=O'Brien's shop", keys, glue=True)[1] == {"name": "O'Brien's shop"}
    assert split_args('name=客户说“很好” phone=1', keys)[1] == {"name": "客户说“很好”", "phone": "1"}
    assert split_args("name='a \"b\" c'", keys)[1] == {"name": 'a "b" c'}


@pytest.mark.parametrize("value", ["plain", "two words", 'say "hi" now', "O'Brien's", "“quoted”", "a=b c"])
def test_quote_round_trips(value):
    from handlers.services.customer_fields import quote

    assert split_args(f"name={quote(value)} phone=1", {"name": "name", "phone": "phone"})[1]["name"] == value


@pytest.mark.parametrize(("raw", "ok"), [
    ("13812345678", "13812345678"), ("138 1234 5678", "13812345678"), ("+86 138-1234-5678", "13812345678"),
    ("+14155550123", "+14155550123"), ("23812345678", None), ("1381234567", None),
    ("0571-88888888", "+8657188888888"), ("010 6552 9988", "+861065529988"),  # landlines as written locally
    ("0571-8888", None), ("00571888888888", None),
    ("+86 571 88888888", "+8657188888888"),  # the landline form the error message suggests
    ("phone", None)])
def test_parse_phone(ctx, raw, ok):
    if ok:
        assert parse_phone(ctx, raw) == ok
    else:
        with pytest.raises(InvalidInput):
            parse_phone(ctx, raw)


@pytest.mark.parametrize(("raw", "value"), [("580000", "580000.00"), ("58万", "580000.00"), ("580k", "580000.00"),
                                            ("¥1,200.5", "1200.50"), ("1.2m", "1200000.00"), ("3亿", "300000000.00")])
def test_parse_amount(ctx, raw, value):
    assert parse_amount(ctx, raw) == value


@pytest.mark.parametrize("raw", ["lots", "-5", "0", "5万元多"])
def test_parse_amount_rejects(ctx, raw):
    with pytest.raises(InvalidInput):
        parse_amount(ctx, raw)


def test_parse_misc_fields(ctx):
    assert parse_industry(ctx, "制造业") == "manufacturing" and parse_industry(ctx, "it") == "IT"
    assert parse_industry(ctx, "地产") == "real_estate"
    assert parse_tags(ctx, "高预算、决策周期短，#转介绍客户, 高预算") == ["高预算", "决策周期短", "转介绍客户"]
    assert parse_email(ctx, " a.b@c.example ") == "a.b@c.example"
    with pytest.raises(InvalidInput):
        parse_email(ctx, "a@b")


def test_parse_date_local_forms(ctx):
    assert str(_parse_date(ctx, "2026-12-05")) == "2026-12-05"
    assert str(_parse_date(ctx, "昨天", past=True)) == "2026-11-22"
    assert str(_parse_date(ctx, "12月5日", past=True)) == "2025-12-05"
    assert str(_parse_date(ctx, "12月5日")) == "2026-12-05"
    with pytest.raises(InvalidInput):
        _parse_date(ctx, "2026-02-30")


def test_find_duplicates_by_name_phone_email_across_owners(session):
    other = f.staff(session, name="zed")
    c = f.customer(session, name="杭州云栖科技有限公司", owner=other, phone="13812345678", email="ZW@yq.example")
    c.name_norm = "杭州云栖科技"
    session.flush()
    assert find_duplicates(session, name="杭州云栖科技 有限公司") == [c]
    assert find_duplicates(session, name="x", phone="13812345678") == [c]
    assert find_duplicates(session, name="x", email="zw@yq.example") == [c]
    assert find_duplicates(session, name="别的公司") == []


def test_audit_record_writes_text_values(session):
    audit.record(session, actor_id=None, action="update", entity="customer", entity_id=7, field="tags",
                 old=["a", "b"], new=None, now=NOW)
    session.flush()
    row = session.scalar(select(AuditLog))
    assert (row.old, row.new, row.at) == ("a,b", None, NOW)


@pytest.mark.parametrize(("raw", "value"), [("零售业", "retail"), ("零售", "retail"), ("制造", "manufacturing"),
                                            ("金融业", "finance"), ("retail", "retail"), ("Retail", "retail")])
def test_parse_industry_takes_labels_with_or_without_ye(ctx, raw, value):
    from handlers.services.customer_fields import parse_industry

    assert parse_industry(ctx, raw) == value


def test_parse_industry_still_refuses_the_unknown(ctx):
    from handlers.services.customer_fields import parse_industry

    with pytest.raises(InvalidInput):
        parse_industry(ctx, "农业")
