"""Reference tables: a copy of routing_rules/ kept in the database for joins and integrity."""

from sqlmodel import Field, SQLModel

import app.db  # noqa: F401  (the naming convention must be set before tables are declared)


class AreaRow(SQLModel, table=True):
    __tablename__ = "area"

    code: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=200)
    level: str = Field(max_length=20)
    parent_code: str | None = Field(default=None, foreign_key="area.code", max_length=80)
    official_code: str | None = Field(default=None, max_length=20)
    active: bool = True


class TopicRow(SQLModel, table=True):
    __tablename__ = "topic"

    code: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=200)
    parent_code: str | None = Field(default=None, foreign_key="topic.code", max_length=80)
    active: bool = True


class UnitRow(SQLModel, table=True):
    __tablename__ = "unit"

    code: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    calendar: str | None = Field(default=None, max_length=40)
    escalation_code: str | None = Field(default=None, foreign_key="unit.code", max_length=80)
    active: bool = True


class UnitAreaRow(SQLModel, table=True):
    __tablename__ = "unit_area"

    unit_code: str = Field(foreign_key="unit.code", primary_key=True, max_length=80)
    area_code: str = Field(foreign_key="area.code", primary_key=True, max_length=80)
