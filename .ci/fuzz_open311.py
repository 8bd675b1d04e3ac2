"""Hostile requests against a running server's Open311 routes (/open311/v2/), which are outside
/openapi.json and so outside schemathesis: hypothesis draws paths, formats, repeated query and
form fields and hostile text (controls, NUL, NFD Vietnamese, look-alike letters, other scripts'
digits, far-off dates, huge numbers, files where text belongs).

Fails on any 5xx, on an answer whose content type is not the requested format's (or
problem+json for a refused body), on JSON that is not strict (NaN) or XML that is not
well-formed, on errors not shaped [{code, description}], and on a filed request (200) that
cannot be read back whole.

    python .ci/fuzz_open311.py BASE_URL ADMIN_USER ADMIN_PASSWORD [EXAMPLES] [SEED]
"""

import json
import sys
import unicodedata
from urllib.parse import quote, urlencode

import defusedxml.ElementTree as SafeET
import httpx
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

base, admin_user, admin_password = sys.argv[1:4]
examples = int(sys.argv[4]) if len(sys.argv) > 4 else 300
fixed_seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1022
api = httpx.Client(base_url=base, timeout=60)
token = api.post("/api/v1/auth/token", data={"username": admin_user, "password": admin_password})
admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
made = api.post(
    "/api/v1/admin/api-keys", json={"name": "fuzz-open311", "role": "integration"}, headers=admin
)
KEY = made.json()["key"]
O311 = f"{base}/open311/v2"

# Valid forms of three services (their required attributes), which hostile fields then amend.
SERVICES = [
    [("service_code", "giao-thong.mat-duong"), ("attribute[kich-thuoc]", "lon")],
    [("service_code", "moi-truong.rac-thai"), ("attribute[loai-rac][]", "sinh-hoat")],
    [("service_code", "ngap-ung.ngap-duong"), ("attribute[do-sau-cm]", "30")],
    [("service_code", "x")],
]
AREAS = ["Phường Cầu Giấy", "Dich Vong, Cau Giay", "Trúc Bạch", "Ba Đình", "phuong-cau-giay"]
hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(AREAS).map(lambda a: unicodedata.normalize("NFD", a)),
    st.sampled_from(AREAS).map(lambda a: a.replace("a", "а").replace("o", "о")),  # Cyrillic
    st.sampled_from(
        [
            "²",
            "٢١",
            "2_1",
            "1e999",
            "nan",
            "-inf",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-12:00",
            "2026-11-29T08:00:00+07:00",
            "2026-02-30",
            "HN-2026-000001",
            "HN-2026-99999999999999999999",
            "hn-2026-000001,HN-2026-000002",
            "open,closed",
            "OPEN",
            "true",
            "21.0362",
            "105.7906",
            "0912 345 678",
            "ha-noi",
            "a\x00b",
            "\x01\x0b\x1f",
            "\ufffe",
            "<x>&amp;</x>",
            "x" * 5000,
        ]
    ),
)
QUERY_KEYS = [
    "jurisdiction_id",
    "service_request_id",
    "service_code",
    "status",
    "start_date",
    "end_date",
    "updated_after",
    "updated_before",
    "page",
    "page_size",
    "extensions",
    "phone",
]
FORM_KEYS = [
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "description",
    "first_name",
    "last_name",
    "phone",
    "email",
    "account_id",
    "device_id",
    "media_url",
    "jurisdiction_id",
    "attribute[kich-thuoc]",
    "attribute[lan-duong][]",
    "attribute[do-sau-cm]",
    "attribute[bat-dau-luc]",
    "attribute[loai-rac][]",
    "attribute[zzz]",
]
pairs = st.lists(st.tuples(st.sampled_from(QUERY_KEYS), hostile_text), max_size=6)
form_pairs = st.lists(st.tuples(st.sampled_from(FORM_KEYS), hostile_text), max_size=3)
fmt = st.sampled_from(["json", "json", "xml", "xml", "yaml", ""])
reference = st.one_of(st.sampled_from(["HN-2026-000001", "HN-2026-000002"]), hostile_text)


def strict_json(text: str) -> object:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} in JSON")

    return json.loads(text, parse_constant=refuse)


def check(r: httpx.Response, suffix: str) -> object:
    """The answer's invariants; returns the parsed document (None for a problem+json)."""
    where = f"{r.request.method} {r.request.url}"
    assert r.status_code < 500, f"{where}: {r.status_code} {r.text[:300]}"
    media = r.headers.get("content-type", "")
    if media.startswith("application/problem+json"):
        assert r.status_code in (400, 404, 405, 413, 415, 422), f"{where}: {r.status_code}"
        strict_json(r.text)
        return None
    if suffix == "xml":
        assert media == "text/xml; charset=utf-8", f"{where}: {media}"
        root = SafeET.fromstring(r.content)
        if r.status_code >= 400:
            assert root.tag == "errors" and root.find("error/code") is not None, where
        return root
    assert media == "application/json; charset=utf-8", f"{where}: {media}"
    document = strict_json(r.text)
    if r.status_code >= 400:
        assert isinstance(document, list) and {"code", "description"} <= set(document[0]), where
    return document


def filed_whole(document: object) -> None:
    """A 200 filing names a request that reads back (never half-written)."""
    reference = document[0]["service_request_id"]  # type: ignore[index]
    back = api.get(f"{O311}/requests/{reference}.json", headers={"X-Forwarded-For": "fuzz"})
    assert back.status_code in (200, 429), back.text
    if back.status_code == 200:
        assert back.json()[0]["service_request_id"] == reference


common = settings(
    max_examples=examples,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    derandomize=False,
)


@seed(fixed_seed)
@common
@given(
    path=st.sampled_from(
        [
            "discovery",
            "services",
            "services/giao-thong.mat-duong",
            "requests",
            "servicerequestupdates",
            "requests/{ref}",
            "tokens/{ref}",
        ]
    ),
    suffix=fmt,
    params=pairs,
    ref=reference,
)
def fuzz_get(path: str, suffix: str, params: list, ref: str) -> None:
    url = f"{O311}/{path.format(ref=quote(ref, safe=''))}"
    r = api.get(f"{url}.{suffix}" if suffix else url, params=params)
    if r.status_code == 404 and not suffix:
        return  # no format suffix: the route does not exist
    check(r, suffix if suffix in ("json", "xml") else "json")


@seed(fixed_seed)
@common
@given(
    suffix=fmt,
    fields=form_pairs,
    service=st.sampled_from(SERVICES),
    area=st.sampled_from(AREAS),
    keyed=st.sampled_from([True, True, True, False]),
    as_file=st.one_of(st.none(), st.sampled_from(FORM_KEYS)),
)
def fuzz_post(suffix, fields, service, area, keyed, as_file) -> None:
    form = [*service, ("address_string", area), *fields]
    if keyed:
        form.append(("api_key", KEY))
    url = f"{O311}/requests.{suffix}" if suffix else f"{O311}/requests"
    if as_file:  # multipart: httpx takes the repeated fields as lists
        grouped: dict[str, list[str]] = {}
        for name, value in form:
            grouped.setdefault(name, []).append(value)
        r = api.post(url, data=grouped, files={as_file: ("f.txt", b"x")})
    else:  # repeated fields, in order, as a citizen app's form sends them
        kind = {"content-type": "application/x-www-form-urlencoded"}
        r = api.post(url, content=urlencode(form).encode(), headers=kind)
    if r.status_code in (404, 405) and not suffix:
        return
    document = check(r, suffix if suffix in ("json", "xml") else "json")
    if r.status_code == 200 and suffix == "json":
        filed_whole(document)


if __name__ == "__main__":
    failed = 0
    for test in (fuzz_get, fuzz_post):
        try:
            test()
            print(f"open311 {test.__name__}: {examples} examples, no failure")
        except Exception as exc:  # report both, fail at the end
            failed += 1
            print(f"open311 {test.__name__} FAILED: {exc}")
    sys.exit(1 if failed else 0)
