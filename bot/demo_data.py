"""Realistic demo data: staff in every role, ~200 customers with contacts, tags, follow-ups, opportunities
with their stage history, purchases and service tickets, spread over the last months.

`generate(session, now=..., settings=...)` is deterministic for a given `now` and `seed`. Dates are relative to
`now`; the denormalised customer fields (`last_followup_at`, `next_followup_at`, `grade`) are consistent with
the rows behind them; grades follow the settings' thresholds (yearly purchases) unless `grade_locked`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot import demo_words as W
from bot.demo_followups import add_followups
from bot.demo_tickets import add_tickets
from handlers.services.approvals import request_approval
from handlers.services.sla import job_ctx
from handlers.settings import DomainSettings
from storage import codes
from storage.models import (
    AuditLog,
    Contact,
    Customer,
    CustomerTag,
    FollowUp,
    Opportunity,
    OpportunityStage,
    Purchase,
    Staff,
    Tag,
)

DAY = timedelta(days=1)
OPEN_STAGES = ("initial", "needs", "proposal", "negotiation")
CUSTOMERS = 200
POOL = 12
NEW_LEADS = 3  # 李娜's leads from today: their first follow-up is due within 24 hours


@dataclass
class Spec:
    type: str
    industry: str
    created_at: datetime
    owner: Staff | None
    prev_owner: Staff | None = None  # pool customers: who owned them before
    new_lead: bool = False


class Demo:
    def __init__(self, session, *, now: datetime, settings: DomainSettings, seed: int) -> None:  # noqa: ANN001
        self.s, self.now, self.st = session, now, settings
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(settings.default_tz)
        self.staff: dict[str, Staff] = {}
        self.tags: dict[str, Tag] = {}
        self.used_names: set[str] = set()
        self.contracts = 0
        self.deals: list[tuple[Customer, Contact]] = []
        self.later: list = []  # rows nothing refers to by id yet: inserted in big batches (fast)

    def flush_later(self) -> None:
        self.s.add_all(self.later)
        self.later.clear()
        self.s.flush()

    # ------------------------------------------------------------ helpers
    def at_local(self, day: datetime, hour: int, minute: int = 0) -> datetime:
        d = day.astimezone(self.tz).date()
        return datetime.combine(d, time(hour, minute), self.tz).astimezone(self.now.tzinfo)

    def between(self, a: datetime, b: datetime) -> datetime:
        return a + (b - a) * self.rng.random() if b > a else a

    def pick(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # ------------------------------------------------------------ staff
    def add_staff(self) -> None:
        for name, role, team, manager, lang in W.STAFF:
            st = Staff(name=name, role=role, team=team, lang=lang, tz=self.st.default_tz, notify="console",
                       manager_id=self.staff[manager].id if manager else None, active=True,
                       created_at=self.now - 400 * DAY)
            self.s.add(st)
            self.s.flush()
            self.staff[name] = st

    # ------------------------------------------------------------ customers
    def plan(self) -> list[Spec]:
        reps = [self.staff[n] for n in W.REP_WEIGHTS]
        weights = list(W.REP_WEIGHTS.values())
        specs = []
        for i in range(CUSTOMERS):
            industry = self.rng.choice(self.st.industries)
            if i < POOL:
                specs.append(Spec(self.rng.choice(("potential", "intent")), industry,
                                  self.now - self.rng.randint(70, 330) * DAY, None,
                                  prev_owner=self.rng.choice(reps)))
            elif i < POOL + NEW_LEADS:
                specs.append(Spec("potential", industry, self.now - self.rng.randint(1, 20) * timedelta(hours=1),
                                  self.staff[W.DEFAULT_USER], new_lead=True))
            else:
                kind = self.pick({"potential": 25, "intent": 32, "deal": 33, "lost": 10})
                oldest = 60 if kind in ("deal", "lost") else 3
                specs.append(Spec(kind, industry, self.now - self.rng.randint(oldest, 330) * DAY
                                  - self.rng.randint(0, 600) * timedelta(minutes=1),
                                  self.rng.choices(reps, weights=weights)[0]))
        return sorted(specs, key=lambda sp: sp.created_at)

    def company_name(self, industry: str) -> str:
        suffixes = W.SUFFIXES.get(industry, W.GENERIC_SUFFIX)
        while True:
            brand, brand_en = self.rng.choice(W.BRANDS)
            suf, suf_en = self.rng.choice(suffixes)
            city = self.rng.choice(list(W.PLACES))
            name = (f"{brand_en} {suf_en} Co., Ltd." if self.rng.random() < 0.1
                    else f"{city}{brand}{suf}有限公司")
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def address(self) -> str:
        city = self.rng.choice(list(W.PLACES))
        province, districts, streets = W.PLACES[city]
        city_part = "" if province.startswith(city) else f"{city}市"
        return f"{province}{city_part}{self.rng.choice(districts)}{self.rng.choice(streets)}{self.rng.randint(1, 999)}号"

    def person(self) -> tuple[str, str]:
        i = self.rng.randrange(len(W.SURNAMES))
        return W.SURNAMES[i] + self.rng.choice(W.GIVEN), W.SURNAME_PINYIN[i]

    def add_customer(self, sp: Spec) -> None:
        from handlers.lookup import normalize_name

        year = sp.created_at.astimezone(self.tz).year
        name = self.company_name(sp.industry)
        lang = "zh" if (sp.owner or sp.prev_owner).lang == "zh" else "en"  # type: ignore[union-attr]
        c = Customer(code=codes.customer_code(self.s, abbr=self.st.company_abbr, year=year), name=name,
                     name_norm=normalize_name(name), industry=sp.industry, type=sp.type, grade="C",
                     address=self.address() if self.rng.random() < 0.85 else None,
                     demand=self.rng.choice(W.DEMANDS[lang]) if self.rng.random() < 0.7 else None,
                     source=self.rng.choice(W.SOURCES[lang]), owner_id=sp.owner.id if sp.owner else None,
                     created_by_id=(sp.owner or sp.prev_owner).id,  # type: ignore[union-attr]
                     created_at=sp.created_at, updated_at=sp.created_at)
        self.s.add(c)
        self.s.flush()
        contact = self.add_contacts(c)
        self.add_tags(c)
        actor = sp.owner or sp.prev_owner
        self.later.append(AuditLog(at=sp.created_at, actor_id=actor.id, action="create", entity="customer",  # type: ignore[union-attr]
                            entity_id=c.id, entity_code=c.code))
        won_at = None
        if sp.type == "deal":
            won_at = self.between(sp.created_at + 20 * DAY, min(sp.created_at + 60 * DAY, self.now - 3 * DAY))
            first = self.add_purchases(c, actor, won_at)  # type: ignore[arg-type]
            self.deals.append((c, contact))
        else:
            first = None
            if sp.type == "intent" and self.rng.random() < 0.08:  # a promising prospect, graded by hand
                c.grade, c.grade_locked = self.rng.choice(("A", "B")), True
        if sp.owner is not None:
            self.add_opportunities(c, sp, won_at, first)
        elif sp.type == "intent" and self.rng.random() < 0.5:
            self.deals.append((c, contact))
        add_followups(self, c, sp, won_at)

    def add_contacts(self, c: Customer) -> Contact:
        first = None
        for k in range(self.rng.choice((1, 1, 2, 2, 3))):
            name, pinyin = self.person()
            phone = self.rng.choice(W.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            ct = Contact(customer_id=c.id, name=name, title=self.rng.choice(W.TITLES), phone=phone,
                         email=f"{pinyin}{self.rng.randint(1, 99)}@example.cn" if self.rng.random() < 0.6 else None,
                         is_primary=k == 0, created_at=c.created_at)
            self.later.append(ct)
            first = first or ct
        return first  # type: ignore[return-value]

    def add_tags(self, c: Customer) -> None:
        for name in self.rng.sample(W.TAGS, self.rng.choice((0, 0, 1, 1, 2))):
            if name not in self.tags:
                self.tags[name] = Tag(name=name)
                self.s.add(self.tags[name])
                self.s.flush()
            self.later.append(CustomerTag(customer_id=c.id, tag_id=self.tags[name].id))

    # ------------------------------------------------------------ purchases, opportunities
    def add_purchases(self, c: Customer, staff: Staff, won_at: datetime) -> Decimal:
        grade = self.pick({"A": 15, "B": 35, "C": 50})
        low, high = {"A": (1_050_000, 2_500_000), "B": (220_000, 900_000), "C": (30_000, 180_000)}[grade]
        total = self.rng.randint(low, high)
        n = self.rng.randint(1, 5)
        cuts = sorted(self.rng.sample(range(1, 100), n - 1))
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
        amounts = [Decimal(round(total * p / 100, -2)) for p in parts]
        dates = [won_at] + sorted(self.between(won_at, self.now - timedelta(hours=1)) for _ in amounts[1:])
        for amount, when in zip(amounts, dates, strict=True):
            self.later.append(Purchase(customer_id=c.id, date=when, product=self.rng.choice(W.PRODUCTS), amount=amount,
                                staff_id=staff.id, created_at=when))
        c.grade = self.st.grade_for(float(sum(amounts)))
        return amounts[0]

    def add_opportunities(self, c: Customer, sp: Spec, won_at: datetime | None, first: Decimal | None) -> None:
        plans: list[str] = []
        if sp.type == "deal":
            plans = ["won"] + ([self.rng.choice(OPEN_STAGES)] if self.rng.random() < 0.3 else [])
        elif sp.type == "intent" and self.rng.random() < 0.75:
            plans = [self.pick({"initial": 2, "needs": 3, "proposal": 3, "negotiation": 2})]
        elif sp.type == "potential" and not sp.new_lead and self.rng.random() < 0.25:
            plans = ["initial"]
        elif sp.type == "lost" and self.rng.random() < 0.7:
            plans = ["lost"]
        for stage in plans:
            self.add_opportunity(c, sp.owner, stage, won_at if stage == "won" else None, first)  # type: ignore[arg-type]

    def add_opportunity(self, c: Customer, owner: Staff, stage: str, won_at: datetime | None,
                        first: Decimal | None) -> None:
        opened = self.between(c.created_at + DAY, min(c.created_at + 10 * DAY, self.now - DAY))
        end = won_at or (self.now - timedelta(hours=2))
        if stage == "lost":
            path = [*OPEN_STAGES[: self.rng.randint(1, 4)], "lost"]
            end = self.between(opened + 5 * DAY, self.now - 2 * DAY)
        elif stage == "won":
            path = [*OPEN_STAGES, "won"]
        else:
            path = list(OPEN_STAGES[: OPEN_STAGES.index(stage) + 1])
        times = [opened] + sorted(self.between(opened, end) for _ in path[1:-1]) + ([end] if len(path) > 1 else [])
        expected = (first * Decimal(self.rng.choice(("0.9", "1", "1.1"))) if first
                    else Decimal(self.rng.randrange(50, 800) * 1000))
        o = Opportunity(code=codes.opportunity_code(self.s, customer_code=c.code), customer_id=c.id,
                        name=self.rng.choice(W.OPP_NAMES), expected_amount=expected.quantize(Decimal("1")),
                        stage=path[-1], owner_id=owner.id, competitors=self.rng.choice(W.COMPETITORS),
                        strengths="产品功能完整，本地化服务好" if len(path) > 2 else None,
                        weaknesses="价格偏高" if len(path) > 3 else None,
                        created_at=opened, updated_at=times[-1])
        close = won_at or end if stage in ("won", "lost") else self.now + self.rng.randint(10, 120) * DAY
        o.expected_close_date = close.astimezone(self.tz).date()
        if stage == "won":
            self.contracts += 1
            o.actual_amount, o.contract_no = first, f"HT{won_at.year}{self.contracts:04d}"  # type: ignore[union-attr]
        elif stage == "lost":
            o.lost_reason = self.rng.choice(W.LOST_REASONS)
        self.s.add(o)
        self.s.flush()
        prev = None
        for st, at in zip(path, times, strict=True):
            self.later.append(OpportunityStage(opportunity_id=o.id, from_stage=prev, to_stage=st, staff_id=owner.id,
                                        note=W.STAGE_NOTES[st], at=at))
            prev = st


def generate(session, *, now: datetime, settings: DomainSettings, seed: int = 2026,  # noqa: ANN001
             channels: dict[str, str] | None = None) -> dict[str, int]:
    """Fill an empty database with the demo data. Returns counts by kind. `channels`: where the SLA watch
    posted its alerts while the demo's past was lived through (the console's #service by default, as `Core`)."""
    d = Demo(session, now=now, settings=settings, seed=seed)
    d.add_staff()
    for sp in d.plan():
        d.add_customer(sp)
    d.flush_later()
    tickets = add_tickets(d, channels={"console": "#service"} if channels is None else channels)
    d.flush_later()
    add_pending_approval(d)
    def count(model) -> int:  # noqa: ANN001
        return int(session.scalar(select(func.count()).select_from(model)))

    return {"staff": len(d.staff), "customers": count(Customer), "contacts": count(Contact),
            "followups": count(FollowUp), "opportunities": count(Opportunity), "purchases": count(Purchase),
            "tickets": tickets}


def add_pending_approval(d: Demo) -> None:
    """This morning the demo's rep renamed a closed-deal customer: the change waits for her manager, who is sent
    it (pending in the outbox: he sees it when he opens the console) and finds it in /approvals."""
    rep = d.staff[W.DEFAULT_USER]
    c = d.s.scalar(select(Customer).where(Customer.owner_id == rep.id, Customer.type == "deal").order_by(Customer.id))
    ctx = job_ctx(d.s, now=d.now - timedelta(hours=2), settings=d.st, staff=rep)
    request_approval(ctx, c, {"name": [c.name, c.name.removesuffix("有限公司") + "集团有限公司"]})
