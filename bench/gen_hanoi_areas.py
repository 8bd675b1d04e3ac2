"""Generate Hanoi's area tree and unit list for routing_rules/ from `vietnam-provinces`.

Writes two files (deterministic output: re-running with the same package version gives
byte-identical files):

- ``routing_rules/areas/hanoi.yaml``: the city, its 126 current commune-level units
  (51 phường, 75 xã, in force since 1 July 2025) and, under ``former``, the 30 former
  districts (quận/huyện/thị xã) and 526 former wards/communes/towns, each resolved to the
  current units that now cover it.
- ``routing_rules/units.yaml``: the hand-defined city-level units (``CITY_UNITS`` below) and
  one People's Committee (UBND) per current unit.

Data source: vietnam-provinces 2026.9.0 (``__data_version__`` 2026-09-20). The old->new ward
mapping is the package's own conversion table (``Ward.search_from_legacy(code=...)``, built from
the official conversion table "BangChuyendoiĐVHCmoi_cu_khong_merge.csv"); it is cross-checked
against ``Ward.get_legacy_sources()`` (new->old). A former ward split across several current
units maps to all of them; a former district maps to the union of its wards' current units.

The package needs Python >= 3.12 and is *not* a dependency of the service (which runs on 3.11
and only reads the generated YAML). Run from the repository root::

    ~/.pyenv/versions/3.12.1/bin/python -m venv /tmp/vp
    /tmp/vp/bin/pip install vietnam-provinces==2026.9.0 ruamel.yaml==0.19.1
    /tmp/vp/bin/python bench/gen_hanoi_areas.py

Edit ``CITY_UNITS`` here (not the YAML) to change the city-level units.
"""

from __future__ import annotations

import io
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import vietnam_provinces
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from vietnam_provinces import Province, ProvinceCode, VietNamDivisionType, Ward, WardCode, legacy

EXPECTED_VERSION = "2026.9.0"
ROOT = Path(__file__).resolve().parent.parent
AREAS_PATH = ROOT / "routing_rules" / "areas" / "hanoi.yaml"
UNITS_PATH = ROOT / "routing_rules" / "units.yaml"

HANOI = 1
CITY_CODE = "ha-noi"
EXPECTED = {"ward": 51, "commune": 75, "districts": 30, "former_wards": 526}

CURRENT_LEVEL = {VietNamDivisionType.PHUONG: "ward", VietNamDivisionType.XA: "commune"}
FORMER_DISTRICT_TYPES = {
    legacy.VietNamDivisionType.QUAN,
    legacy.VietNamDivisionType.HUYEN,
    legacy.VietNamDivisionType.THI_XA,
}
FORMER_WARD_LEVEL = {
    legacy.VietNamDivisionType.PHUONG: "ward",
    legacy.VietNamDivisionType.XA: "commune",
    legacy.VietNamDivisionType.THI_TRAN: "town",
}

# City-level units, hand-maintained. UBND units of the current wards/communes are generated.
# calendar: `office` (government working hours) or `24x7`.
# escalation: the unit an overdue ticket is escalated to (null = top of the chain).
CITY_UNITS: list[dict[str, object]] = [
    {
        "code": "tong-dai-1022",
        "name": "Tổng đài 1022",
        "kind": "tong-dai",
        "calendar": "24x7",
        "escalation": None,
    },
    {
        "code": "ubnd-ha-noi",
        "name": "UBND Thành phố Hà Nội",
        "kind": "ubnd",
        "calendar": "office",
        "escalation": None,
    },
    # Departments (sở) and department-level agencies. Since 1 March 2025 Hà Nội's Sở Giao thông
    # vận tải is part of Sở Xây dựng, and Sở Tài nguyên và Môi trường + Sở Nông nghiệp và PTNT
    # form Sở Nông nghiệp và Môi trường.
    {
        "code": "so-xay-dung",
        "name": "Sở Xây dựng Hà Nội",
        "kind": "so",
        "calendar": "office",
        "escalation": "ubnd-ha-noi",
    },
    {
        "code": "so-nong-nghiep-moi-truong",
        "name": "Sở Nông nghiệp và Môi trường Hà Nội",
        "kind": "so",
        "calendar": "office",
        "escalation": "ubnd-ha-noi",
    },
    {
        "code": "so-y-te",
        "name": "Sở Y tế Hà Nội",
        "kind": "so",
        "calendar": "office",
        "escalation": "ubnd-ha-noi",
    },
    {
        "code": "so-cong-thuong",
        "name": "Sở Công Thương Hà Nội",
        "kind": "so",
        "calendar": "office",
        "escalation": "ubnd-ha-noi",
    },
    {
        "code": "so-noi-vu",
        "name": "Sở Nội vụ Hà Nội",
        "kind": "so",
        "calendar": "office",
        "escalation": "ubnd-ha-noi",
    },
    {
        "code": "atvstp-ha-noi",
        "name": "Chi cục An toàn vệ sinh thực phẩm Hà Nội",
        "kind": "so",
        "calendar": "office",
        "escalation": "so-y-te",
    },
    {
        "code": "hanh-chinh-cong-ha-noi",
        "name": "Trung tâm Phục vụ hành chính công Thành phố Hà Nội",
        "kind": "so",
        "calendar": "office",
        "escalation": "ubnd-ha-noi",
    },
    {
        "code": "dieu-hanh-giao-thong-ha-noi",
        "name": "Trung tâm Quản lý và Điều hành giao thông đô thị Hà Nội",
        "kind": "so",
        "calendar": "office",
        "escalation": "so-xay-dung",
    },
    # Health.
    {
        "code": "cdc-ha-noi",
        "name": "Trung tâm Kiểm soát bệnh tật Hà Nội",
        "kind": "y-te",
        "calendar": "office",
        "escalation": "so-y-te",
    },
    {
        "code": "cap-cuu-115-ha-noi",
        "name": "Trung tâm Cấp cứu 115 Hà Nội",
        "kind": "y-te",
        "calendar": "24x7",
        "escalation": "so-y-te",
    },
    # Police.
    {
        "code": "cong-an-ha-noi",
        "name": "Công an Thành phố Hà Nội",
        "kind": "cong-an",
        "calendar": "24x7",
        "escalation": "ubnd-ha-noi",
    },
    {
        "code": "csgt-ha-noi",
        "name": "Phòng Cảnh sát giao thông - Công an Thành phố Hà Nội",
        "kind": "cong-an",
        "calendar": "24x7",
        "escalation": "cong-an-ha-noi",
    },
    {
        "code": "pccc-ha-noi",
        "name": "Phòng Cảnh sát PCCC và CNCH - Công an Thành phố Hà Nội",
        "kind": "cong-an",
        "calendar": "24x7",
        "escalation": "cong-an-ha-noi",
    },
    # City utility and public-service companies.
    {
        "code": "nuoc-sach-ha-noi",
        "name": "Công ty TNHH MTV Nước sạch Hà Nội",
        "kind": "cong-ty",
        "calendar": "24x7",
        "escalation": "so-xay-dung",
    },
    {
        "code": "evn-ha-noi",
        "name": "Tổng công ty Điện lực Thành phố Hà Nội (EVNHANOI)",
        "kind": "cong-ty",
        "calendar": "24x7",
        "escalation": "so-cong-thuong",
    },
    {
        "code": "thoat-nuoc-ha-noi",
        "name": "Công ty TNHH MTV Thoát nước Hà Nội",
        "kind": "cong-ty",
        "calendar": "24x7",
        "escalation": "so-xay-dung",
    },
    {
        "code": "urenco",
        "name": "Công ty TNHH MTV Môi trường đô thị Hà Nội (URENCO)",
        "kind": "cong-ty",
        "calendar": "office",
        "escalation": "so-nong-nghiep-moi-truong",
    },
    {
        "code": "cay-xanh-ha-noi",
        "name": "Công ty TNHH MTV Công viên cây xanh Hà Nội",
        "kind": "cong-ty",
        "calendar": "office",
        "escalation": "so-xay-dung",
    },
    {
        "code": "chieu-sang-ha-noi",
        "name": "Công ty TNHH MTV Chiếu sáng và Thiết bị đô thị Hà Nội (HAPULICO)",
        "kind": "cong-ty",
        "calendar": "24x7",
        "escalation": "so-xay-dung",
    },
    {
        "code": "xe-buyt-ha-noi",
        "name": "Tổng công ty Vận tải Hà Nội (Transerco)",
        "kind": "cong-ty",
        "calendar": "office",
        "escalation": "dieu-hanh-giao-thong-ha-noi",
    },
]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def slugify(text: str) -> str:
    """ASCII slug: strip diacritics (đ -> d), lowercase, runs of non-alphanumerics -> '-'."""
    text = nfc(text).replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def flow(items: list[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def build_areas() -> tuple[list[CommentedMap], list[CommentedMap], dict[str, int]]:
    """Return (areas, former, counts) for Hanoi."""
    city = Province.from_code(ProvinceCode(HANOI))
    areas = [
        CommentedMap(
            code=CITY_CODE,
            name=nfc(city.name),
            level="city",
            official_code=DoubleQuotedScalarString(str(city.code.value)),
        )
    ]

    current = sorted(Ward.iter_by_province(ProvinceCode(HANOI)), key=lambda w: w.code.value)
    slug_of: dict[int, str] = {}
    for ward in current:
        level = CURRENT_LEVEL[ward.division_type]  # KeyError = unexpected type (e.g. đặc khu)
        slug = slugify(ward.name)
        if slug in slug_of.values() or slug == CITY_CODE:
            raise SystemExit(f"duplicate area slug {slug!r} ({ward.name})")
        slug_of[ward.code.value] = slug
        areas.append(
            CommentedMap(
                code=slug,
                name=nfc(ward.name),
                level=level,
                parent=CITY_CODE,
                official_code=DoubleQuotedScalarString(str(ward.code.value)),
            )
        )

    # old ward code -> current ward codes, from the package's conversion table (old -> new) ...
    old_to_new: dict[int, set[int]] = {}
    old_wards = sorted(
        legacy.Ward.iter_by_province(legacy.ProvinceCode(HANOI)), key=lambda w: w.code.value
    )
    for old in old_wards:
        targets = {r.ward.code.value for r in Ward.search_from_legacy(code=old.code.value)}
        if not targets:
            raise SystemExit(f"no current unit for former {old.name} ({old.code.value})")
        if not targets <= slug_of.keys():
            raise SystemExit(f"former {old.name} maps outside Hanoi: {sorted(targets)}")
        old_to_new[old.code.value] = targets
    # ... cross-checked against the reverse table (new -> old sources).
    reverse: dict[int, set[int]] = {}
    for ward in current:
        for src in Ward.from_code(WardCode(ward.code.value)).get_legacy_sources():
            reverse.setdefault(src.code.value, set()).add(ward.code.value)
    if reverse != old_to_new:
        raise SystemExit("old->new and new->old conversion tables disagree")

    former: list[CommentedMap] = []
    districts = sorted(
        legacy.District.iter_by_province(legacy.ProvinceCode(HANOI)), key=lambda d: d.code.value
    )
    wards_by_district: dict[int, list[legacy.Ward]] = {}
    for old in old_wards:
        wards_by_district.setdefault(old.district_code.value, []).append(old)
    for district in districts:
        if district.division_type not in FORMER_DISTRICT_TYPES:
            raise SystemExit(f"unexpected district type {district.division_type} ({district.name})")
        members = wards_by_district.get(district.code.value, [])
        covered = set().union(*(old_to_new[w.code.value] for w in members))
        former.append(
            CommentedMap(
                name=nfc(district.name),
                level="district",
                areas=flow(sorted(slug_of[c] for c in covered)),
            )
        )
        for old in members:
            former.append(
                CommentedMap(
                    name=nfc(old.name),
                    level=FORMER_WARD_LEVEL[old.division_type],
                    district=nfc(district.name),
                    areas=flow(sorted(slug_of[c] for c in old_to_new[old.code.value])),
                )
            )

    levels = Counter(a["level"] for a in areas)
    counts = {
        "ward": levels["ward"],
        "commune": levels["commune"],
        "districts": len(districts),
        "former_wards": len(old_wards),
        "former_wards_split": sum(len(t) > 1 for t in old_to_new.values()),
    }
    for key, want in EXPECTED.items():
        if counts[key] != want:
            raise SystemExit(f"expected {want} {key}, got {counts[key]}")
    return areas, former, counts


def build_units(areas: list[CommentedMap]) -> list[CommentedMap]:
    units = []
    for spec in CITY_UNITS:
        unit = CommentedMap(code=spec["code"], name=spec["name"], kind=spec["kind"])
        unit["areas"] = flow([CITY_CODE])
        unit["calendar"] = spec["calendar"]
        unit["escalation"] = spec["escalation"]
        units.append(unit)
    for area in areas:
        if area["level"] == "city":
            continue
        unit = CommentedMap(code=f"ubnd-{area['code']}", name=f"UBND {area['name']}", kind="ubnd")
        unit["areas"] = flow([area["code"]])
        unit["calendar"] = "office"
        unit["escalation"] = "ubnd-ha-noi"
        units.append(unit)
    codes = Counter(u["code"] for u in units)
    if dupes := [c for c, n in codes.items() if n > 1]:
        raise SystemExit(f"duplicate unit codes: {dupes}")
    known = set(codes)
    for unit in units:
        if unit["escalation"] is not None and unit["escalation"] not in known:
            raise SystemExit(f"{unit['code']}: unknown escalation {unit['escalation']}")
    return units


def dump(header: str, data: CommentedMap) -> str:
    yaml = YAML()
    yaml.width = 4096  # keep flow lists on one line (no trailing blanks from wrapping)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    buf = io.StringIO()
    yaml.dump(data, buf)
    return header + buf.getvalue()


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def main() -> int:
    version = vietnam_provinces.__version__
    if version != EXPECTED_VERSION:
        print(
            f"warning: vietnam-provinces {version} (script last run with {EXPECTED_VERSION}); "
            "review the diff",
            file=sys.stderr,
        )
    areas, former, counts = build_areas()
    write(
        AREAS_PATH,
        dump(
            f"# Generated by bench/gen_hanoi_areas.py from vietnam-provinces {version}."
            " Do not edit by hand.\n",
            CommentedMap(areas=areas, former=former),
        ),
    )
    units = build_units(areas)
    write(
        UNITS_PATH,
        dump(
            "# Generated by bench/gen_hanoi_areas.py. Do not edit by hand: edit the script.\n",
            CommentedMap(units=units),
        ),
    )
    print(
        f"vietnam-provinces {version}: {len(areas) - 1} current units "
        f"({counts['ward']} ward, {counts['commune']} commune), "
        f"{counts['districts']} former districts, {counts['former_wards']} former wards "
        f"({counts['former_wards_split']} split across several units); {len(units)} units"
    )
    print(f"wrote {AREAS_PATH.relative_to(ROOT)} and {UNITS_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
