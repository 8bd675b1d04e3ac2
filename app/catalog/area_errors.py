"""Area texts that cannot be read, or need a choice, as 422 field errors with a pick list."""

from typing import Any

from app.catalog.resolver import AreaConflict, AreaNotFound, AreaResolution
from app.errors import field_error


def area_error(loc: list[str | int], exc: AreaNotFound | AreaConflict) -> dict[str, Any]:
    """A field error for an unknown part (with the closest names) or parts that disagree."""
    if isinstance(exc, AreaConflict):
        first, second = exc.parts
        return field_error(
            loc,
            f"'{first}' does not lie in '{second}' in '{exc.text}': no area is both; check "
            "either part",
            parts=list(exc.parts),
        )
    suggestions = [{"code": a.code, "name": a.name} for a in exc.suggestions]  # type: ignore[attr-defined]
    hint = ", ".join(f"{s['name']} ({s['code']})" for s in suggestions)
    where = f" (in '{exc.text}')" if exc.part != exc.text else ""
    return field_error(
        loc,
        f"no area named '{exc.part}'{where} in Hà Nội"
        + (f"; did you mean {hint}?" if hint else ""),
        part=exc.part,
        suggestions=suggestions,
    )


def candidates_out(resolution: AreaResolution) -> list[dict[str, Any]]:
    """The pick list: each candidate's code, current name and the former names it covers."""
    return [
        {"code": c.code, "name": c.name, "former_names": list(c.former_names)}
        for c in resolution.candidates
    ]


def ambiguity_error(
    loc: list[str | int],
    resolution: AreaResolution,
    why: str = "and they are handled by different units or SLA policies",
) -> dict[str, Any]:
    """A question for whoever is on the line: which of these areas is it?"""
    names = ", ".join(f"{c.name} ({c.code})" for c in resolution.candidates[:8])
    more = f" and {len(resolution.candidates) - 8} more" if len(resolution.candidates) > 8 else ""
    return field_error(
        loc,
        f"'{resolution.text}' may be any of {names}{more}, {why}; ask the caller and send the "
        "chosen code as the area",
        candidates=candidates_out(resolution),
        read_as=list(resolution.read_as),
    )
