"""Who is calling: a signed-in user or an API key, with a role and (for agents) units."""

from dataclasses import dataclass, field

from app.users.permissions import Role, allows


@dataclass(frozen=True)
class Principal:
    username: str  # what events record as the actor ("apikey:<name>" for keys)
    role: str
    units: frozenset[str] = field(default=frozenset())
    user_id: int | None = None
    api_key_id: int | None = None
    # The user's console_session_version: a console cookie signed with another is revoked.
    console_session_version: int = 0

    def can(self, permission: str) -> bool:
        return allows(self.role, permission)

    @property
    def scoped_to_units(self) -> bool:
        """Unit agents see only tickets their units have been assigned."""
        return self.role == Role.UNIT_AGENT
