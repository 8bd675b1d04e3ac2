"""Routing throughput: decisions per second on one core.

Two rulesets:

- ``hanoi``: the shipped ``routing_rules/`` (126 wards/communes, the real rules);
- ``country``: a generated ruleset of 1,000 rules over a synthetic catalog shaped like Vietnam
  after the 2025 reform (34 provinces, ~3,300 communes, 200 topics, a ward committee per commune
  and per province, city companies and police per province), loaded through the real loader.

Each measurement routes a fixed list of random ticket facts (seeded, so runs are comparable) in
a tight loop for about a second, three times, and reports the median. ``route`` is measured
without exclusions (the intake path) and with one excluded unit (the re-routing path, which
skips the decision cache); ``explain`` is measured too, for information.

    .venv/bin/python bench/routing.py            # both rulesets
    .venv/bin/python bench/routing.py --quick    # shorter runs
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.catalog.catalog import Area, Catalog, Topic, Unit  # noqa: E402
from app.catalog.loader import load_catalog  # noqa: E402
from app.catalog.vocabulary import CHANNELS, PRIORITIES  # noqa: E402
from app.routing import Ruleset, TicketFacts, load_ruleset  # noqa: E402
from app.routing.textmatch import fold_words  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 3, 2, tzinfo=TZ)  # a Monday
SAMPLE_TEXT = (
    "nhà tôi bị mất điện từ sáng đường ngập sâu rác thải tồn đọng cây đổ karaoke ồn ào "
    "nước sinh hoạt bị đục hố ga mất nắp đánh nhau trước quán cháy nhà ngộ độc thực phẩm "
    "xin cảm ơn cán bộ phường đèn đường không sáng lấn chiếm vỉa hè xây dựng trái phép"
)
WORDS = SAMPLE_TEXT.split()


# -- synthetic country ------------------------------------------------------------------------


def country_catalog(provinces: int = 34, communes: int = 98, rng: random.Random | None = None):
    rng = rng or random.Random(1)
    areas = {"vn": Area("vn", "Việt Nam", "country")}
    units = {"tong-dai": Unit("tong-dai", "Tổng đài", "tong-dai", ("vn",))}
    for p in range(provinces):
        pc = f"p{p:02}"
        areas[pc] = Area(pc, f"Tỉnh {p}", "province", "vn")
        units[f"ubnd-{pc}"] = Unit(f"ubnd-{pc}", f"UBND {pc}", "ubnd", (pc,))
        units[f"cong-an-{pc}"] = Unit(f"cong-an-{pc}", f"Công an {pc}", "cong-an", (pc,))
        for company in ("nuoc", "dien", "thoat-nuoc"):
            code = f"{company}-{pc}"
            units[code] = Unit(code, code, "cong-ty", (pc,))
        for c in range(communes + rng.randint(-5, 5)):
            cc = f"{pc}-x{c:03}"
            areas[cc] = Area(cc, f"Xã {p} {c}", "commune", pc)
            units[f"ubnd-{cc}"] = Unit(f"ubnd-{cc}", f"UBND {cc}", "ubnd", (cc,))
    topics = {}
    for g in range(20):
        group = f"g{g:02}"
        topics[group] = Topic(group, f"Nhóm {g}")
        for s in range(9):
            topics[f"{group}.s{s}"] = Topic(f"{group}.s{s}", f"Chủ đề {g}.{s}", group)
    return Catalog(areas=areas, topics=topics, units=units, triage_unit="tong-dai")


def country_rules_yaml(catalog: Catalog, count: int = 1000, rng: random.Random | None = None):
    rng = rng or random.Random(2)
    provinces = sorted(a for a, area in catalog.areas.items() if area.level == "province")
    communes = {p: [] for p in provinces}
    for code, area in catalog.areas.items():
        if area.level == "commune":
            communes[area.parent].append(code)
    topics = sorted(catalog.topics)
    groups = [t for t in topics if "." not in t]
    lines = ["fallback: tong-dai", "rules:"]
    catch_alls = len(provinces)
    for i in range(count - catch_alls):
        p = rng.choice(provinces)
        kind = rng.random()
        when: list[str] = []
        co = ""
        if kind < 0.40:  # province x topic -> a provincial company or the committee by area
            when += [f"topic: {rng.choice(topics)}", f"area: {p}"]
            assign = rng.choice(
                [f"nuoc-{p}", f"dien-{p}", f"thoat-nuoc-{p}", "{kind: ubnd, by: area}"]
            )
            if rng.random() < 0.3:
                co = "co_handlers: [{kind: ubnd, by: area}]"
        elif kind < 0.70:  # a few communes x topic group -> the committee by area
            picks = rng.sample(communes[p], rng.randint(1, 3))
            when += [f"topic: {rng.choice(groups)}", f"area: [{', '.join(picks)}]"]
            assign = "{kind: ubnd, by: area}"
        elif kind < 0.80:  # time windows
            start = rng.randint(0, 23)
            end = (start + rng.randint(2, 12)) % 24
            when += [
                f"topic: {rng.choice(groups)}",
                f"area: {p}",
                f'hours: "{start:02}:00-{end:02}:30"',
            ]
            if rng.random() < 0.5:
                when.append("weekdays: [sat, sun]")
            assign = f"cong-an-{p}"
        elif kind < 0.90:  # keywords
            words = rng.sample(WORDS, 2)
            when += [f"keywords: [{words[0]} {words[1]}, {rng.choice(WORDS)} {rng.choice(WORDS)}]"]
            if rng.random() < 0.7:
                when.append(f"area: {p}")
            assign = rng.choice([f"nuoc-{p}", f"dien-{p}", f"cong-an-{p}"])
        else:  # channel / priority / confidential
            when += [
                f"topic: {rng.choice(groups)}",
                f"channel: [{', '.join(rng.sample(CHANNELS, 2))}]",
                f"priority: [{', '.join(rng.sample(PRIORITIES, 2))}]",
                f"area: {p}",
            ]
            if rng.random() < 0.5:
                when.append(f"confidential: {rng.choice(['true', 'false'])}")
            assign = f"ubnd-{p}"
        lines.append(f"  - id: r{i:04}")
        lines.append(f"    when: {{{', '.join(when)}}}")
        lines.append(f"    assign: {assign}")
        if co:
            lines.append(f"    {co}")
    for p in provinces:  # catch-all per province, last
        lines += [
            f"  - id: all-{p}",
            f"    when: {{area: {p}}}",
            "    assign: {kind: ubnd, by: area}",
        ]
    return "\n".join(lines) + "\n"


# -- facts ------------------------------------------------------------------------------------


def random_facts(catalog: Catalog, n: int, rng: random.Random) -> list[TicketFacts]:
    areas = [a for a, area in catalog.areas.items() if area.parent is not None]
    leaves = [a for a in areas if catalog.areas[a].level in ("ward", "commune")] or areas
    topics = sorted(catalog.topics)
    out = []
    for _ in range(n):
        roll = rng.random()
        area = rng.choice(leaves) if roll < 0.9 else (rng.choice(areas) if roll < 0.97 else None)
        out.append(
            TicketFacts(
                topic=rng.choice(topics) if rng.random() < 0.93 else None,
                area=area,
                channel=rng.choice(CHANNELS),
                priority=rng.choices(PRIORITIES, weights=(1, 6, 2, 1))[0],
                description=" ".join(rng.choices(WORDS, k=rng.randint(5, 30))),
                received_at=START + timedelta(minutes=rng.randrange(7 * 24 * 60)),
                confidential=rng.random() < 0.05,
            )
        )
    return out


# -- timing -----------------------------------------------------------------------------------


def rate(call: Callable[[TicketFacts], object], facts: list[TicketFacts], seconds: float) -> float:
    """Decisions per second over whole passes of `facts` lasting at least `seconds`."""
    done, start = 0, time.perf_counter()
    while True:
        for f in facts:
            call(f)
        done += len(facts)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def fold_cost(facts: list[TicketFacts]) -> str:
    """The floor of any decision that reaches a keyword rule: folding the description."""
    texts = [f.description for f in facts]
    start = time.perf_counter()
    for _ in range(3):
        for text in texts:
            fold_words(text)
    micros = (time.perf_counter() - start) / (3 * len(texts)) * 1e6
    chars = statistics.mean(len(t) for t in texts)
    return f"folding a description ({chars:.0f} chars on average) takes {micros:.1f} us"


def measure(name: str, ruleset: Ruleset, facts: list[TicketFacts], seconds: float) -> dict:
    excluded = frozenset({"no-such-unit-but-non-empty"})
    route, explain = ruleset.route, ruleset.explain
    for f in facts:  # warm the decision cache as a running service would be
        route(f)
    results = {}
    for label, call, secs in (
        ("route", route, seconds),
        ("route+exclude", lambda f: route(f, excluded), seconds),
        ("explain", explain, seconds / 4),
    ):
        runs = [rate(call, facts, secs) for _ in range(3)]
        results[label] = (statistics.median(runs), runs)
    print(f"\n{name}: {len(ruleset)} rules; {fold_cost(facts)}")
    for label, (median, runs) in results.items():
        shown = ", ".join(f"{r:,.0f}" for r in runs)
        print(f"  {label:<14} median {median:>12,.0f} decisions/s   (runs: {shown})")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="0.3 s per run instead of 1.5 s")
    args = parser.parse_args()
    seconds = 0.3 if args.quick else 1.5
    rng = random.Random(42)

    t0 = time.perf_counter()
    hanoi_catalog = load_catalog(ROOT / "routing_rules")
    t1 = time.perf_counter()
    hanoi = load_ruleset(ROOT / "routing_rules", hanoi_catalog)
    t2 = time.perf_counter()
    print(f"hanoi: catalog {t1 - t0:.2f}s, rules load+compile {t2 - t1:.3f}s")
    measure("hanoi (shipped)", hanoi, random_facts(hanoi_catalog, 5000, rng), seconds)

    catalog = country_catalog()
    communes = sum(1 for a in catalog.areas.values() if a.level == "commune")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "rules.yaml").write_text(country_rules_yaml(catalog), encoding="utf-8")
        t0 = time.perf_counter()
        country = load_ruleset(Path(tmp), catalog)
        t1 = time.perf_counter()
    print(
        f"\ncountry: {len(catalog.areas)} areas ({communes} communes), {len(catalog.topics)} "
        f"topics, {len(catalog.units)} units; load+validate+compile+shadow check {t1 - t0:.2f}s, "
        f"{len(country.warnings)} warnings"
    )
    measure("country (generated)", country, random_facts(catalog, 5000, rng), seconds)


if __name__ == "__main__":
    main()
