"""The house stays easy to see (issue 12): no module in app/ grows past 400 lines. A module
that needs more is doing more than one job; split it by what a reader looks for
(docs/architecture.md says where things go)."""

from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
MAX_LINES = 400


def test_no_module_in_app_is_over_400_lines():
    sizes = {
        str(path.relative_to(APP.parent)): len(path.read_text(encoding="utf-8").splitlines())
        for path in APP.rglob("*.py")
    }
    assert len(sizes) > 100, "app/ not found where expected"
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not too_long, f"split these modules (over {MAX_LINES} lines): {too_long}"
