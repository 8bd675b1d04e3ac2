"""PostgreSQL: a report's percentiles per group and overall in one pass per target.

`GROUP BY GROUPING SETS ((keys...), ())` computes `percentile_cont` for every group and for
the totals row from one read of the period's done values, where two statements
(`repository.percentiles_statement` per grouping, then without one) read them twice. The
values are the same (the same aggregate over the same rows); measured on the 1M bench data
for a year by unit, acknowledge: ~0.9 s against 0.7 + 1.4 s under the same load
(docs/performance.md). SQLite keeps the window-function statements.
"""

from typing import Any

from sqlalchemy import func, literal_column, select, tuple_

from app.reports.source import (
    PERCENTILES,
    TARGETS,
    Grouping,
    Scope,
    _seconds_column,
    assignments_in_scope,
)


def combined_statement(scope: Scope, grouping: Grouping, target: str) -> Any:
    """(key_<name>..., is_total, median, p90) rows: one per group, plus the totals row
    (is_total = 1, keys NULL), over the target's done working seconds."""
    source, where, keys = assignments_in_scope(scope, grouping, "postgresql")
    seconds = _seconds_column(target)
    group = list(keys.values())
    by_group = tuple_(*group) if len(group) > 1 else group[0]
    return (
        select(
            *(expr.label(f"key_{name}") for name, expr in keys.items()),
            func.grouping(*group).label("is_total"),
            *(
                func.percentile_cont(fraction).within_group(seconds).label(name)
                for name, fraction in PERCENTILES
            ),
        )
        .select_from(source)
        .where(*where, seconds.is_not(None))
        .group_by(func.grouping_sets(by_group, literal_column("()")))
    )


async def fill_percentiles(
    connection: Any,
    scope: Scope,
    grouping: Grouping,
    rows: list[dict[str, Any]],
    totals: dict[str, Any],
) -> bool:
    """Set `<target>_<percentile>_seconds` on every row and the totals (None where no value).

    Returns False (nothing done) unless on PostgreSQL with at least one group key; the
    caller then runs the per-grouping statements.
    """
    if connection.dialect.name != "postgresql" or not grouping.keys:
        return False
    names = [f"key_{name}" for name in grouping.keys]
    for target in TARGETS:
        found: dict[Any, Any] = {}
        total: Any = None
        for r in (await connection.execute(combined_statement(scope, grouping, target))).mappings():
            if r["is_total"]:
                total = r
            else:
                found[tuple(r[n] for n in names)] = r
        for row, values in [
            *((row, found.get(tuple(row[n] for n in names))) for row in rows),
            (totals, total),
        ]:
            for name, _ in PERCENTILES:
                row[f"{target}_{name}_seconds"] = None if values is None else values[name]
    return True
