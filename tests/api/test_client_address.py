"""The client address every door keys on (``api.client_address``), the TRUSTED_PROXIES
setting it reads, and the API's own door: bad bearer tokens are limited per client address.
"""

from __future__ import annotations

from ipaddress import ip_network

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from api.client_address import UNKNOWN, resolve
from api.throttles import BAD_TOKENS_PER_ADDRESS, account_key, throttles
from settings import load_settings
from tests.api.conftest import NoTemporal, make_account
from workflows.types import Role

LOCAL = (ip_network("127.0.0.1/32"),)
PROXIES = (ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8"))
CLIENT = "203.0.113.5"
FORGED = "198.51.100.66"


# ------------------------------------------------------------------ resolving the address


def test_by_default_the_peer_is_the_client_whatever_it_forwards() -> None:
    assert resolve("127.0.0.1", [FORGED], ()) == "127.0.0.1"
    assert resolve(CLIENT, [FORGED], ()) == CLIENT


def test_a_peer_that_is_not_a_trusted_proxy_is_not_believed() -> None:
    assert resolve(CLIENT, [FORGED], LOCAL) == CLIENT


def test_a_trusted_proxy_names_the_client() -> None:
    assert resolve("127.0.0.1", [CLIENT], LOCAL) == CLIENT
    assert resolve("127.0.0.1", [], LOCAL) == "127.0.0.1"  # the proxy's own request


def test_entries_left_of_the_proxys_own_are_the_clients_word_and_ignored() -> None:
    assert resolve("127.0.0.1", [f"{FORGED}, {CLIENT}"], LOCAL) == CLIENT
    assert resolve("127.0.0.1", [FORGED, CLIENT], LOCAL) == CLIENT  # as two header lines
    # through two trusted proxies: the right-most entry that is not one of them
    assert resolve("127.0.0.1", [f"{FORGED}, {CLIENT}, 10.1.2.3"], PROXIES) == CLIENT
    # every hop a trusted proxy: the farthest of them
    assert resolve("127.0.0.1", ["10.9.9.9, 10.1.2.3"], PROXIES) == "10.9.9.9"


def test_an_unreadable_entry_stops_at_the_proxy() -> None:
    assert resolve("127.0.0.1", [f"{CLIENT}, unknown"], LOCAL) == "127.0.0.1"
    assert resolve("127.0.0.1", [f"{CLIENT}, 10.1.2.3, <script>"], PROXIES) == "127.0.0.1"
    assert resolve("127.0.0.1", [f"{CLIENT}, <script>, 10.1.2.3"], PROXIES) == "10.1.2.3"


def test_one_address_has_one_key_however_it_is_written() -> None:
    assert resolve("127.0.0.1", [f"{CLIENT}:4711"], LOCAL) == CLIENT
    assert resolve("127.0.0.1", ["[2001:DB8::1]:4711"], LOCAL) == "2001:db8::1"
    assert resolve("127.0.0.1", ["2001:0db8:0::1"], LOCAL) == "2001:db8::1"
    assert resolve("::ffff:127.0.0.1", [CLIENT], LOCAL) == CLIENT
    assert resolve(None, [CLIENT], LOCAL) == UNKNOWN
    assert account_key(" Ａｄｍｉｎ ") == account_key("admin")


# ------------------------------------------------------------------ the setting


def test_trusted_proxies_setting() -> None:
    assert load_settings({}).trusted_proxies == ()
    assert load_settings({"TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8 ,::1,"}).trusted_proxies == (
        ip_network("127.0.0.1/32"),
        ip_network("10.0.0.0/8"),
        ip_network("::1/128"),
    )
    for wrong in ("proxy.example", "10.0.0.1/8", "300.1.1.1"):
        with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
            load_settings({"TRUSTED_PROXIES": wrong})
    for everyone in ("0.0.0.0/0", "::/0"):
        with pytest.raises(ValueError, match="会把所有地址都当作可信代理"):
            load_settings({"TRUSTED_PROXIES": everyone})


# ------------------------------------------------------------------ through the application


def _app(session_factory: async_sessionmaker[AsyncSession], trusted: str = "") -> FastAPI:
    settings = load_settings({"TRUSTED_PROXIES": trusted} if trusted else {})
    return create_app(settings, NoTemporal(), session_factory)  # type: ignore[arg-type]


def _from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 4000))
    return httpx.AsyncClient(transport=transport, base_url="http://api")


async def test_the_https_a_trusted_proxy_reports_makes_cookies_secure(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": CLIENT}
    for trusted, secure in (("", False), ("127.0.0.1", True)):
        async with _from(_app(session_factory, trusted), "127.0.0.1") as http:
            page = await http.get("/console/login", headers=tls)
        assert ("Secure" in page.headers["set-cookie"]) is secure, trusted


async def test_bad_tokens_are_limited_per_address_even_a_good_one_then_waits(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(session_factory)
    good = await make_account(session_factory, Role.CLERK)
    async with _from(app, CLIENT) as guesser, _from(app, "192.0.2.9") as other:
        for i in range(BAD_TOKENS_PER_ADDRESS.times):
            # a new forged X-Forwarded-For each time: not believed, the peer is the key
            forged = {"Authorization": f"Bearer guess-{i}", "X-Forwarded-For": f"192.0.2.{i}"}
            assert (await guesser.get("/cases", headers=forged)).status_code == 401
        paused = await guesser.get("/cases", headers=good.headers)
        assert paused.status_code == 429  # not told that this token is good
        assert 0 < int(paused.headers["retry-after"]) <= BAD_TOKENS_PER_ADDRESS.seconds
        assert CLIENT in paused.json()["detail"]
        assert (await other.get("/cases", headers=good.headers)).status_code == 200
        window = throttles(app).bad_tokens_by_address
        started = window.clock()
        window.clock = lambda: started + BAD_TOKENS_PER_ADDRESS.seconds + 1
        assert (await guesser.get("/cases", headers=good.headers)).status_code == 200


async def test_good_tokens_are_never_counted(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(session_factory)
    good = await make_account(session_factory, Role.CLERK)
    async with _from(app, CLIENT) as http:
        for _ in range(BAD_TOKENS_PER_ADDRESS.times + 5):
            assert (await http.get("/cases", headers=good.headers)).status_code == 200
        no_token = [(await http.get("/cases")).status_code for _ in range(25)]
        assert set(no_token) == {401}  # a missing token guesses nothing


async def test_bad_tokens_through_a_trusted_proxy_are_counted_per_forwarded_client(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(session_factory, "127.0.0.1")
    good = await make_account(session_factory, Role.CLERK)
    async with _from(app, "127.0.0.1") as proxy:
        for i in range(BAD_TOKENS_PER_ADDRESS.times):
            bad = {"Authorization": f"Bearer guess-{i}", "X-Forwarded-For": CLIENT}
            assert (await proxy.get("/cases", headers=bad)).status_code == 401
        forged = {**good.headers, "X-Forwarded-For": f"{FORGED}, {CLIENT}"}
        assert (await proxy.get("/cases", headers=forged)).status_code == 429
        someone_else = {**good.headers, "X-Forwarded-For": "192.0.2.9"}
        assert (await proxy.get("/cases", headers=someone_else)).status_code == 200
