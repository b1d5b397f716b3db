"""The login roles the service connects as: members of the group roles the migrations grant.

The migrations give their privileges to two group roles that cannot log in (``audit``):
``appointments_app``, what the worker and the web service may do (the logs append-only), and
``appointments_signer``, the only role that may insert audit checkpoints. Processes log in as
a member of one of them: the worker and the web service as ``appointments_svc``, the
checkpoint signer as ``appointments_signer_svc``. The tables' owner runs the migrations and
the command line's account commands, nothing else.

``LOGIN_ROLES_SQL`` makes the two groups and the two logins, and leaves alone what is already
there, so it may run at every start: the production database runs it once, when it is first
initialised (``deploy/app-db-init.sh`` carries this very text; a test keeps the two equal), the
embedded stack at every start (``ensure_login_roles``). It takes each login's password from a
setting of the session (``appointments.svc_password``, ``appointments.signer_password``) set
just before it; unset or empty leaves the password as it is (the embedded PostgreSQL trusts
its own socket and needs none). It also takes away any power a login was given beyond its
group's (superuser, creating roles or databases, bypassing row security, replication): a
login that could do those would not be restricted.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url

from audit import APP_ROLE, SIGNER_ROLE
from store.db import to_async_url, to_libpq_url

SERVICE_LOGIN = "appointments_svc"
SIGNER_LOGIN = "appointments_signer_svc"

# login -> (its group, the session setting that may carry its password)
LOGINS: dict[str, tuple[str, str]] = {
    SERVICE_LOGIN: (APP_ROLE, "appointments.svc_password"),
    SIGNER_LOGIN: (SIGNER_ROLE, "appointments.signer_password"),
}

_NO_POWERS = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION INHERIT LOGIN"


def _create_if_missing(role: str, options: str) -> str:
    # several databases on one server (tests, staging) may make the role at the same moment:
    # the loser of that race finds it there, which is fine
    return f"""
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
        BEGIN
            CREATE ROLE {role} {options};
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;"""


def _login_statements(login: str, group: str, password_setting: str) -> str:
    return (
        _create_if_missing(group, "NOLOGIN")
        + _create_if_missing(login, f"LOGIN IN ROLE {group}")
        + f"""
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{login}' AND (rolsuper OR rolcreatedb
            OR rolcreaterole OR rolbypassrls OR rolreplication OR NOT rolinherit
            OR NOT rolcanlogin)) THEN
        ALTER ROLE {login} {_NO_POWERS};
    END IF;
    IF NOT pg_has_role('{login}', '{group}', 'MEMBER') THEN
        GRANT {group} TO {login};
    END IF;
    IF coalesce(current_setting('{password_setting}', true), '') <> '' THEN
        EXECUTE format('ALTER ROLE {login} PASSWORD %L', current_setting('{password_setting}'));
    END IF;"""
    )


LOGIN_ROLES_SQL = (
    "DO $roles$\nBEGIN"
    + "".join(_login_statements(login, *spec) for login, spec in LOGINS.items())
    + "\nEND\n$roles$;"
)


async def ensure_login_roles(owner_url: str) -> None:
    """Run ``LOGIN_ROLES_SQL`` on the server of ``owner_url`` (a role that may create roles),
    without passwords."""
    conn = await asyncpg.connect(to_libpq_url(owner_url))
    try:
        await conn.execute(LOGIN_ROLES_SQL)
    finally:
        await conn.close()


def login_url(url: str, login: str, password: str | None = None) -> str:
    """The same database URL (asyncpg form) connecting as ``login``."""
    changed = make_url(to_async_url(url)).set(username=login, password=password)
    return changed.render_as_string(hide_password=False)
