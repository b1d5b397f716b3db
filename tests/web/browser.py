"""Browser tests' parts: the service on a real port (uvicorn) and a headless Chromium driven
by Playwright, which saves a screenshot of each test's last page.

Chromium is Debian's package (``apt-get install chromium``), found on PATH or named by
``CHROMIUM``; Playwright never downloads a browser here. Screenshots go to
``test-output/screenshots/<test>.png`` (or under ``TEST_OUTPUT_DIR``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from playwright.async_api import Browser, Page, async_playwright

from api.serve import http_server
from tests.conftest import free_port

PROJECT = Path(__file__).resolve().parents[2]


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not found or not Path(found).exists():
        raise AssertionError(
            "browser tests need Debian's chromium (apt-get install chromium) on PATH, or its "
            "path in CHROMIUM"
        )
    return found


def screenshot_path(test_name: str) -> Path:
    folder = Path(os.environ.get("TEST_OUTPUT_DIR", PROJECT / "test-output")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{test_name}.png"


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app on a real port of this machine, for the browser; its base address."""
    port = free_port()
    server = http_server(app, "127.0.0.1", port)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in(page: Page, base: str, name: str, password: str) -> None:
    await page.goto(f"{base}/console/login")
    await page.fill('input[name="name"]', name)
    await page.fill('input[name="password"]', password)
    await page.click('button[type="submit"]')
    await page.wait_for_url(f"{base}/console/")


async def fill(page: Page, values: dict[str, str]) -> None:
    """Type each value into the input of that name, as a person would."""
    for name, value in values.items():
        field = page.locator(f'[name="{name}"]')
        tag = await field.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if tag.startswith("select"):
            await field.select_option(value)
        elif tag == "input:checkbox":
            await field.set_checked(bool(value))
        else:
            await field.fill(value)
