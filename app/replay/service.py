"""Replay history through a proposed ruleset and SLA configuration; nothing is written.

The service wires three parts that each do one job: `proposal` (lay out and validate the
proposed files), `repository` (stream the facts of the period, chunk by chunk) and the pure
cores `app.routing.replay` (first routing decisions, compared) and `app.sla.whatif`
(assignments re-planned, verdicts compared). Each chunk is worked in a thread while the event
loop waits, so a long replay in a server process does not stall that process's other requests
(the interpreter switches between them every few milliseconds); the cores are only ever used
by one thread at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import codes
from app.catalog.catalog import Catalog
from app.catalog.vocabulary import DEFAULT_TIMEZONE
from app.errors import AppError, ValidationFailed, field_error
from app.replay import repository as repo
from app.replay.proposal import (
    BadFileName,
    Proposal,
    ProposalInvalid,
    ProposalProblem,
    load_proposal,
)
from app.reports.period import local_dates, utc_bounds
from app.routing import Ruleset
from app.routing.replay import RoutingComparison, RoutingReplay
from app.sla import SlaConfig
from app.sla.whatif import SlaComparison, SlaScenario, SlaWhatIf
from app.timefmt import LOCAL_TZ

MAX_SAMPLES = 20


class InvalidProposal(AppError):
    """422: the proposed files do not load; `errors` has one entry per `rules check` line."""

    status, title, slug = 422, "Invalid proposal", "invalid-proposal"


@dataclass(frozen=True)
class ReplayReport:
    """What a replay found. `sla` is None when the SLA what-if was not asked for."""

    period_from: date
    period_to: date
    timezone: str
    as_of: datetime
    unit: str | None
    proposed_files: tuple[str, ...]
    warnings: tuple[str, ...]
    routing: RoutingReplay
    sla: SlaWhatIf | None


@dataclass
class ReplayService:
    """Replays over the current rules (`ruleset`, `sla`, `catalog`, files in `rules_dir`).

    `now` is the instant open targets are judged at (the SLA report's `as_of`).
    """

    session: AsyncSession
    catalog: Catalog
    ruleset: Ruleset
    sla: SlaConfig
    rules_dir: Path
    now: datetime
    reference_prefix: str = "HN"
    timezone: str = DEFAULT_TIMEZONE  # of the local dates: Settings.timezone
    where: str = "body"  # how parameters are named in errors: body.from, body.files...

    def reference(self, ticket_id: int, received_at: datetime) -> str:
        year = received_at.astimezone(LOCAL_TZ).year
        return f"{self.reference_prefix}-{year}-{ticket_id:06d}"

    def proposal(
        self, files: Mapping[str, str | None], label: Callable[[str, bool], str]
    ) -> Proposal:
        """Load the proposed files over the current ones.

        Raises ValidationFailed (422) for a name that is not a rule file or text that is not
        UTF-8, InvalidProposal (422) with every `rules check` error of the proposal.
        """
        try:
            return load_proposal(self.rules_dir, files, catalog=self.catalog, label=label)
        except BadFileName as exc:
            raise ValidationFailed(
                [field_error([self.where, "files", exc.name], str(exc))]
            ) from exc
        except UnicodeEncodeError as exc:
            raise ValidationFailed(
                [field_error([self.where, "files"], "the files must be UTF-8 text")]
            ) from exc
        except ProposalInvalid as exc:
            raise InvalidProposal(
                f"The proposal has {len(exc.errors)} error(s); nothing was replayed.",
                errors=[self._problem(p) for p in exc.errors],
                warnings=[p.text for p in exc.warnings],
            ) from exc

    def _problem(self, p: ProposalProblem) -> dict[str, object]:
        return field_error([self.where, "files", p.file], p.text, file=p.file, line=p.line)

    def period(self, date_from: str | None, date_to: str | None) -> tuple[date, date]:
        """Local dates, as the SLA report takes them (default: the last 30 days)."""
        return local_dates(
            date_from, date_to, now=self.now, timezone=self.timezone, where=self.where
        )

    def check_unit(self, unit: str | None, proposal: Proposal) -> None:
        """ValidationFailed unless `unit` is None or a unit now or in the proposal."""
        if unit is None or unit in self.catalog.units or unit in proposal.catalog.units:
            return
        codes.check_unit(self.catalog, unit, [self.where, "unit"])

    async def replay(
        self,
        proposal: Proposal,
        period: tuple[date, date],
        *,
        unit: str | None = None,
        samples: int = 3,
        with_sla: bool | None = None,
        chunk: int = repo.CHUNK,
    ) -> ReplayReport:
        """Replay the period through the proposal and the current rules.

        Routing: every ticket received in the period (local dates), its first decision under
        both rulesets, from the facts it holds now. SLA (when `with_sla`, by default when the
        proposal changes sla.yaml): every assignment assigned in the period, re-planned under
        both configs. `unit` keeps tickets routed to or from it, and that unit's assignments.
        """
        self.check_unit(unit, proposal)
        samples = max(0, min(samples, MAX_SAMPLES))
        start, end = utc_bounds(*period, self.timezone)
        routing = RoutingComparison(self.ruleset, proposal.ruleset, unit=unit, samples=samples)
        async for tickets in repo.stream_ticket_facts(
            self.session, start=start, end=end, chunk=chunk
        ):
            await asyncio.to_thread(routing.add_all, tickets)
        sla = None
        if with_sla if with_sla is not None else proposal.changes_sla:
            sla = await self._sla(proposal, start, end, unit, samples, chunk)
        return ReplayReport(
            period_from=period[0],
            period_to=period[1],
            timezone=self.timezone,
            as_of=self.now,
            unit=unit,
            proposed_files=proposal.files,
            warnings=tuple(p.text for p in proposal.warnings),
            routing=routing.result(),
            sla=sla,
        )

    async def _sla(
        self,
        proposal: Proposal,
        start: datetime,
        end: datetime,
        unit: str | None,
        samples: int,
        chunk: int,
    ) -> SlaWhatIf:
        current = SlaScenario.of(self.sla, self.ruleset.rules)
        proposed = SlaScenario.of(proposal.sla, proposal.ruleset.rules)
        comparison = SlaComparison(current, proposed, self.now, samples=max(samples, 5))
        async for assignments in repo.stream_assignments(
            self.session, start=start, end=end, unit=unit, chunk=chunk
        ):
            await asyncio.to_thread(comparison.add_all, assignments)
        return comparison.result()
