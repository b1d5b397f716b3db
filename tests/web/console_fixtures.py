"""The console on the real stack: accounts with passwords, and a signed-in browser-like
client for each (cookies kept, CSRF token read from the pages as a browser would)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.account_models import create_account
from store.console_models import set_password
from tests.workflows.scenarios import (
    INSPECTION_DONE,
    INSPECTION_START,
    INVESTIGATION_NOTICE,
    MEETING_DAY,
)
from workflows.types import FOUR_MUSTS, Role

BASE_URL = "http://console.test"
PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def make_person(
    sessions: async_sessionmaker[AsyncSession], role: Role, name: str = ""
) -> str:
    """A new account with the console password ``PASSWORD``; its name."""
    name = name or f"{role.value}-{uuid.uuid4().hex[:8]}"
    async with sessions() as s:
        await create_account(s, name, role)
        await set_password(s, name, PASSWORD)
        await s.commit()
    return name


def browser(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, follow_redirects=False
    )


@dataclass
class Person:
    name: str
    role: Role
    http: httpx.AsyncClient
    csrf: str = ""

    async def __aenter__(self) -> Person:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.http.aclose()

    async def get(self, path: str, expect: int = 200) -> str:
        response = await self.http.get(path)
        assert response.status_code == expect, (path, response.status_code, response.text[:2000])
        if 'name="csrf"' in response.text:
            self.csrf = csrf_of(response.text)
        return response.text

    async def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        if not self.csrf:
            await self.get("/console/")
        return await self.http.post(path, data={"csrf": self.csrf, **data})


async def sign_in(app: FastAPI, name: str, role: Role, password: str = PASSWORD) -> Person:
    http = browser(app)
    login = await http.get("/console/login")
    response = await http.post(
        "/console/login", data={"name": name, "password": password, "csrf": csrf_of(login.text)}
    )
    assert response.status_code == 303, response.text
    return Person(name, role, http)


def inspection_forms(team_member: str) -> list[tuple[Role, str, dict[str, str]]]:
    """The forms that take a regular case (``scenarios.regular_case``, people p1 and p2)
    from its investigation notice to the vote, proposing p1: (who sends it, the step, the
    fields), as a clerk and a member of the inspection team fill them in."""
    forms: list[tuple[Role, str, dict[str, str]]] = [
        (
            Role.CLERK,
            "record_investigation_notice",
            {"published_on": INVESTIGATION_NOTICE.isoformat()},
        ),
        (
            Role.CLERK,
            "record_inspection_team",
            {"members": f"{team_member}\n周干事", "started_on": INSPECTION_START.isoformat()},
        ),
    ]
    for pid in ("p1", "p2"):
        forms += [
            (
                Role.INSPECTION_TEAM,
                "record_inspection_check",
                {
                    "person_id": pid,
                    "check": check.value,
                    "completed_on": "2026-09-10",
                    "finding": "无问题",
                },
            )
            for check in FOUR_MUSTS
        ]
        forms += [
            (
                Role.INSPECTION_TEAM,
                "record_democratic_evaluation",
                {
                    "person_id": pid,
                    "held_on": "2026-09-09",
                    "participants": "40",
                    "excellent": "30",
                    "competent": "8",
                    "basically_competent": "2",
                    "incompetent": "0",
                },
            ),
            (
                Role.INSPECTION_TEAM,
                "record_inspection_report",
                {
                    "person_id": pid,
                    "submitted_on": INSPECTION_DONE.isoformat(),
                    "summary": "德才表现良好",
                },
            ),
        ]
    forms.append(
        (Role.CLERK, "conclude_inspection", {"concluded_on": "2026-09-16", "proposed": "p1"})
    )
    return forms


def vote_form(present: int, agree: int) -> dict[str, str]:
    """The committee secretary's vote on p1 at an 11-member meeting."""
    return {
        "meeting.meeting_id": "M1",
        "meeting.held_on": MEETING_DAY.isoformat(),
        "meeting.members": "11",
        "meeting.present": str(present),
        "meeting.method": "secret_ballot",
        # the first row of the items' table (a row per person, the person chosen)
        "items.0.person_id": "p1",
        "items.0.agree": str(agree),
        "items.0.disagree": "1",
        "items.0.defer": "0",
    }
