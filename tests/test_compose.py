"""The production compose file against the code: pinned images, only settings the code
reads, commands that exist, search attributes that match the workflows', Temporal's schema
made by admin-tools (not the deprecated auto-setup), a healthcheck on every long-running
service and a start order that waits on them, two workers on one queue, the web service."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.common import SearchAttributeKey

from settings import PROJECT_DIR, SETTING_NAMES, load_settings

COMPOSE_FILE = PROJECT_DIR / "docker-compose.yml"
REQUIRED_SETTINGS = {"DATABASE_URL", "TEMPORAL_ADDRESS"}


def _services() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    services = document["services"]
    assert isinstance(services, dict) and services
    return services


def _app_services() -> dict[str, dict[str, Any]]:
    """The services built from the project's Dockerfile."""
    return {name: spec for name, spec in _services().items() if "build" in spec}


def _environment(spec: dict[str, Any]) -> dict[str, str | None]:
    env = spec.get("environment") or {}
    if isinstance(env, list):  # the `- NAME=value` spelling
        pairs = (item.partition("=") for item in env)
        return {name: (value if sep else None) for name, sep, value in pairs}
    return {name: (None if value is None else str(value)) for name, value in env.items()}


def _command(spec: dict[str, Any]) -> list[str]:
    command = spec.get("command")
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def test_there_are_app_services() -> None:
    assert {"migrate", "worker", "web"} <= set(_app_services())


def test_one_image_runs_every_role_by_its_command() -> None:
    app = _app_services()
    assert len({spec["image"] for spec in app.values()}) == 1
    assert {name: _command(spec)[1:] for name, spec in app.items()} == {
        "migrate": ["migrate"],
        "worker": ["worker"],
        "web": ["web"],
    }


def _one_shot(spec: dict[str, Any]) -> bool:
    """A service that runs once and exits (it must not be restarted when it has)."""
    return str(spec.get("restart", "no")) == "no"


@pytest.mark.parametrize("service", sorted(_services()))
def test_every_long_running_service_has_a_healthcheck(service: str) -> None:
    spec = _services()[service]
    if _one_shot(spec):
        assert "healthcheck" not in spec, f"{service} runs once: others wait for it to finish"
        return
    check = spec.get("healthcheck")
    assert check and check.get("test"), f"{service} has no healthcheck"
    assert check["test"][0] in ("CMD", "CMD-SHELL"), check
    assert not check.get("disable"), service


@pytest.mark.parametrize("service", sorted(_services()))
def test_every_dependency_waits_for_health_or_completion(service: str) -> None:
    depends = _services()[service].get("depends_on") or {}
    assert isinstance(depends, dict), f"{service}: depends_on without conditions: {depends}"
    for needed, how in depends.items():
        wanted = (
            "service_completed_successfully"
            if _one_shot(_services()[needed])
            else "service_healthy"
        )
        assert how.get("condition") == wanted, f"{service} -> {needed}: {how}, want {wanted}"


def _graph_order() -> list[str]:
    """The services in an order compose may start them (fails on a cycle)."""
    services = _services()
    order: list[str] = []
    while len(order) < len(services):
        ready = [
            name
            for name, spec in services.items()
            if name not in order and set(spec.get("depends_on") or {}) <= set(order)
        ]
        assert ready, f"a cycle among {sorted(set(services) - set(order))}"
        order += sorted(ready)
    return order


def test_the_roles_start_after_what_they_need() -> None:
    order = _graph_order()
    for role in ("worker", "web"):
        for needed in ("migrate", "temporal", "temporal-setup", "app-db"):
            assert order.index(needed) < order.index(role), (role, needed, order)
    assert order.index("temporal-schema") < order.index("temporal") < order.index("temporal-setup")


def _image_version(service: str) -> tuple[int, ...]:
    tag = _services()[service]["image"].rpartition(":")[2]
    return tuple(int(part) for part in re.match(r"(\d+)\.(\d+)\.(\d+)", tag).groups())  # type: ignore[union-attr]


def test_temporal_is_a_current_server_with_its_schema_made_by_admin_tools() -> None:
    services = _services()
    images = {name: spec["image"] for name, spec in services.items()}
    assert not [i for i in images.values() if "auto-setup" in i], "auto-setup is deprecated"
    assert images["temporal"].startswith("temporalio/server:")
    assert (1, 29, 0) <= _image_version("temporal") < (2, 0, 0)  # worker versioning and on
    for one_shot in ("temporal-schema", "temporal-setup"):
        assert images[one_shot].startswith("temporalio/admin-tools:"), one_shot
        # the tools of the server's own release: the schema is the one that server expects
        assert _image_version(one_shot) == _image_version("temporal"), one_shot
    script = " ".join(_command(services["temporal-schema"]))
    for database, schema in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        for step in (
            "setup-schema -v 0.0",
            f"update-schema -d /etc/temporal/schema/postgresql/v12/{schema}/versioned",
        ):
            assert f"--db {database} {step}" in script, (database, step)
    assert "--db $$db create" in script and "temporal temporal_visibility" in script
    setup = " ".join(_command(services["temporal-setup"]))
    assert "temporal operator namespace create --namespace default" in setup
    mounted = [v.split(":")[0] for v in services["temporal"].get("volumes", [])]
    assert mounted and all((PROJECT_DIR / path).is_file() for path in mounted), mounted


def test_workers_scale_out_on_one_queue() -> None:
    worker = _app_services()["worker"]
    assert worker["deploy"]["replicas"] == 2
    # replicas cannot share a container name or a host port
    assert "container_name" not in worker and "ports" not in worker
    assert _environment(worker)["TASK_QUEUE"]


def test_the_worker_and_web_connect_as_the_restricted_role_migrate_as_the_owner() -> None:
    app = _app_services()
    user = {
        name: re.match(r"postgresql\+asyncpg://([^:]+):", _environment(spec)["DATABASE_URL"] or "")
        for name, spec in app.items()
    }
    assert {name: m.group(1) for name, m in user.items() if m} == {
        "migrate": "appointments",
        "worker": "appointments_svc",
        "web": "appointments_svc",
    }
    init = (PROJECT_DIR / "deploy" / "app-db-init.sh").read_text("utf-8")
    assert "CREATE ROLE appointments_svc LOGIN" in init and "IN ROLE appointments_app" in init


def test_the_probes_are_the_services_own() -> None:
    app = _app_services()
    worker, web = app["worker"], app["web"]
    assert worker["healthcheck"]["test"][1:] == ["appointments", "health", "worker"]
    assert _environment(worker)["WORKER_READY_FILE"], "the worker's probe reads this file"
    assert web["healthcheck"]["test"][1:] == ["appointments", "health", "web"]
    env = load_settings({k: v for k, v in _environment(web).items() if v and "${" not in v})
    assert env.web_host == "0.0.0.0"
    published = [str(p).rsplit(":", 1)[1] for p in web["ports"]]
    assert published == [str(env.web_port)]
    import click

    from starter.cli import cli

    health = cli.get_command(click.Context(cli), "health")
    assert isinstance(health, click.Group)
    assert set(health.list_commands(click.Context(health))) == {"web", "worker"}


@pytest.mark.parametrize("service", sorted(_services()))
def test_image_is_pinned(service: str) -> None:
    image = _services()[service].get("image")
    assert image, f"{service}: no image (built services must name and version theirs too)"
    name, _, tag = image.rpartition(":")
    # a colon inside a registry address (host:port/name) is not a tag
    assert name and "/" not in tag, f"{service}: image {image!r} has no tag"
    assert tag != "latest", f"{service}: image {image!r} uses `latest`"
    assert re.search(r"\d", tag), f"{service}: tag {tag!r} of {image!r} names no version"


@pytest.mark.parametrize("service", sorted(_app_services()))
def test_app_service_gets_only_known_settings(service: str) -> None:
    env = _environment(_app_services()[service])
    unknown = set(env) - set(SETTING_NAMES)
    assert not unknown, f"{service} is given settings the code never reads: {sorted(unknown)}"
    missing = REQUIRED_SETTINGS - set(env)
    assert not missing, f"{service} lacks required settings: {sorted(missing)}"
    assert not any(value in (None, "") for value in env.values()), f"{service}: empty setting"


@pytest.mark.parametrize("service", sorted(_app_services()))
def test_app_service_has_no_env_file(service: str) -> None:
    # an env_file could smuggle in names the test above never sees
    assert "env_file" not in _app_services()[service]


def test_every_setting_name_is_read_by_load_settings() -> None:
    env = {name: f"/distinctive/{name.lower()}-value" for name in SETTING_NAMES}
    env["SMTP_PORT"] = "2526"  # a number, and one no default has
    env["WEB_PORT"] = "8123"
    env["TEMPORAL_UI_ORIGINS"] = "https://temporal.example.org"  # an origin, as it must be
    env["WORKER_STICKY_TIMEOUT"] = "4.5"
    env["WORKER_MAX_CACHED_WORKFLOWS"] = "37"  # a count, and not the default
    env["LOG_LEVEL"] = "DEBUG"  # a level, and not the default
    env["SMTP_SECURITY"] = "starttls"  # one of its words, and not the default
    env["WORKER_METRICS_ADDRESS"] = "0.0.0.0:9464"  # host:port
    env["ATTACHMENT_MAX_BYTES"] = "1048577"  # a number of bytes, and not the default
    env["TRUSTED_PROXIES"] = "198.51.100.0/24"  # a network, and one no default has
    env["TEMPORAL_UI_ORIGINS"] = "https://temporal-ui.example.org"  # an origin
    loaded = load_settings(env)
    values = [v for value in vars(loaded).values() for v in _items(value)]
    shown = {str(value) for value in values if value is not None}
    unread = [name for name, value in env.items() if value not in shown]
    assert not unread, f"SETTING_NAMES lists names load_settings ignores: {unread}"


def _items(value: object) -> tuple[object, ...]:
    """A list setting's items, each shown on its own; any other setting as it is."""
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("service", sorted(_app_services()))
def test_app_service_command_is_a_real_subcommand(service: str) -> None:
    command = _command(_app_services()[service])
    assert command[:1] == ["appointments"], f"{service}: command {command} is not `appointments`"
    assert len(command) >= 2, f"{service}: no subcommand in {command}"
    import click

    from starter.cli import cli

    assert isinstance(cli, click.Group)
    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert command[1] in names, (
        f"{service}: `appointments {command[1]}` does not exist (commands: {sorted(names)})"
    )
    found = cli.get_command(ctx, command[1])
    assert found is not None and found.name == command[1]


def test_cli_has_the_commands_deployments_use() -> None:
    import click

    from starter.cli import cli

    ctx = click.Context(cli)
    for name in ("serve", "worker", "migrate", "web", "health"):
        found = cli.get_command(ctx, name)
        assert found is not None and found.name == name, name


def test_every_command_the_cli_lists_loads_under_its_name() -> None:
    import click

    from starter.cli import cli

    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert len(names) >= 16
    for name in names:
        found = cli.get_command(ctx, name)
        assert isinstance(found, click.Command) and found.name == name, name
    assert cli.get_command(ctx, "no-such-command") is None


def _registered_by_compose() -> dict[str, str]:
    """NAME -> Type from every `search-attribute create --name N --type T` in the file."""
    found: dict[str, str] = {}
    for spec in _services().values():
        for part in _command(spec):
            for line in part.split(";"):
                words = shlex.split(line)
                if "search-attribute" not in words or "create" not in words:
                    continue
                names = [words[i + 1] for i, w in enumerate(words) if w == "--name"]
                types = [words[i + 1] for i, w in enumerate(words) if w == "--type"]
                assert len(types) == 1, f"one --type per command, please: {line.strip()}"
                found.update(dict.fromkeys(names, types[0]))
    return found


def test_compose_registers_the_workflows_search_attributes() -> None:
    from starter.embedded import search_attribute_flags
    from workflows.search_attributes import SEARCH_ATTRIBUTES

    keys = [key for key in SEARCH_ATTRIBUTES if isinstance(key, SearchAttributeKey)]
    assert len(keys) == len(SEARCH_ATTRIBUTES)
    flags = search_attribute_flags(keys)
    wanted = dict(flag.split("=", 1) for flag in flags[1::2])
    assert _registered_by_compose() == wanted


def test_dockerfile_is_pinned_and_drops_root() -> None:
    dockerfile = (PROJECT_DIR / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert bases and all(re.match(r"python:3\.11\.\d+-slim", base) for base in bases), bases
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}


def test_a_port_that_is_not_a_number_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="SMTP_PORT 须为端口号"):
        load_settings({"SMTP_PORT": "twenty-five"})
    with pytest.raises(ValueError, match="须在 1 至 65535 之间"):
        load_settings({"SMTP_PORT": "70000"})


def test_the_sticky_timeout_is_seconds_within_bounds() -> None:
    assert load_settings({}).worker_sticky_timeout == 10.0
    assert load_settings({"WORKER_STICKY_TIMEOUT": "2.5"}).worker_sticky_timeout == 2.5
    with pytest.raises(ValueError, match="WORKER_STICKY_TIMEOUT 须为秒数"):
        load_settings({"WORKER_STICKY_TIMEOUT": "soon"})
    for out_of_bounds in ("0", "0.5", "301", "-3"):
        with pytest.raises(ValueError, match="须在 1 至 300 秒之间"):
            load_settings({"WORKER_STICKY_TIMEOUT": out_of_bounds})


def test_the_worker_cache_is_a_positive_count() -> None:
    assert load_settings({}).worker_max_cached_workflows == 300
    assert load_settings({"WORKER_MAX_CACHED_WORKFLOWS": "50"}).worker_max_cached_workflows == 50
    for bad in ("0", "-1", "many", "2.5"):
        with pytest.raises(ValueError, match="WORKER_MAX_CACHED_WORKFLOWS 须为正整数"):
            load_settings({"WORKER_MAX_CACHED_WORKFLOWS": bad})


def test_a_malformed_setting_is_refused_in_chinese() -> None:
    for env, said in [
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL 只能是 DEBUG、INFO"),
        ({"TRUSTED_PROXIES": "0.0.0.0/0"}, "会把所有地址都当作可信代理"),
        ({"TRUSTED_PROXIES": "proxy"}, "不是 IP 地址或网段"),
    ]:
        with pytest.raises(ValueError, match=said):
            load_settings(env)


def test_the_web_ui_origins_are_origins() -> None:
    loaded = load_settings(
        {"TEMPORAL_UI_ORIGINS": "http://127.0.0.1:8233, https://UI.example.org/"}
    )
    assert loaded.temporal_ui_origins == ("http://127.0.0.1:8233", "https://ui.example.org")
    for bad in ("*", "http://*", "https://ui.example.org/path", "ui.example.org", "ftp://x"):
        with pytest.raises(ValueError, match=r"TEMPORAL_UI_ORIGINS：.* 不是来源"):
            load_settings({"TEMPORAL_UI_ORIGINS": bad})
    assert load_settings({}).payload_key_files == ()
    assert load_settings({"PAYLOAD_KEY_FILES": "/k/new.key, /k/old.key"}).payload_key_files == (
        Path("/k/new.key"),
        Path("/k/old.key"),
    )
