"""Register persons for the tests that take a case's candidates from the cadre register: each
change imported as a sheet's rows, through the import every door uses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sheets.columns import REGISTER_PEOPLE, REGISTER_POSTS, REGISTER_SANCTIONS, Sheet
from store.register import ImportOutcome, import_sheet
from workflows.register_types import PersonRow, PostRow, SanctionsRow
from workflows.types import Actor, Model, Role, Sanction

REGISTRAR = Actor(name="名册管理员", role=Role.CLERK)
BIRTH = date(1982, 5, 6)


def new_register_id() -> str:
    """The register is one for the whole database: each test names persons of its own."""
    return f"R{uuid.uuid4().hex[:10]}"


async def imported(
    sessions: async_sessionmaker[AsyncSession], sheet: Sheet, rows: Sequence[Model], reason: str
) -> ImportOutcome:
    async with sessions() as s, s.begin():
        numbered = [(n, r) for n, r in enumerate(rows, start=2)]
        return await import_sheet(s, sheet, numbered, REGISTRAR, reason)


async def add_person(
    sessions: async_sessionmaker[AsyncSession],
    register_id: str,
    name: str,
    education: str = "大学本科",
    post: str = "科长",
) -> None:
    """A person with one post held since 2019 (two versions: the person, the posts)."""
    await imported(
        sessions,
        REGISTER_PEOPLE,
        [
            PersonRow(
                person_id=register_id,
                name=name,
                sex="男",
                birth_date=BIRTH,
                party_member=True,
                education=education,
            )
        ],
        "名册导入",
    )
    await imported(
        sessions,
        REGISTER_POSTS,
        [
            PostRow(
                person_id=register_id,
                unit="县环保局",
                post=post,
                rank="正科级",
                started_on=date(2019, 3, 1),
            )
        ],
        "任职经历导入",
    )


async def set_education(
    sessions: async_sessionmaker[AsyncSession], register_id: str, name: str, education: str
) -> None:
    row = PersonRow(
        person_id=register_id,
        name=name,
        sex="男",
        birth_date=BIRTH,
        party_member=True,
        education=education,
    )
    await imported(sessions, REGISTER_PEOPLE, [row], "学历更正")


async def set_sanctions(
    sessions: async_sessionmaker[AsyncSession], register_id: str, sanctions: list[Sanction]
) -> None:
    row = SanctionsRow(person_id=register_id, sanctions=sanctions)
    await imported(sessions, REGISTER_SANCTIONS, [row], "处分信息导入")
