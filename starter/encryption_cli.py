"""The ``encryption`` commands (载荷加密): the keys that encrypt what the service keeps in
Temporal (``gateway.payload_keys``).

``keygen`` writes a new key file; ``keys`` says which keys the settings name and which one
encrypts, without showing any key. Exit status 0, or 2 when a key file cannot be written or
read.
"""

from __future__ import annotations

from pathlib import Path

import click

from starter.cli_base import App, InputError, pass_app

KEY_PATH = click.Path(dir_okay=False, path_type=Path)


@click.group()
def encryption() -> None:
    """Keys of the payloads kept in Temporal (载荷加密): make one, list those in use."""


@encryption.command()
@click.option("--out", type=KEY_PATH, required=True, help="the key file to write")
def keygen(out: Path) -> None:
    """Make a payload key: OUT (mode 0600). Name it first in PAYLOAD_KEY_FILES to encrypt
    with it; keep the older keys after it for as long as what they encrypted is kept."""
    from gateway.payload_keys import PayloadKeyError, write_key_file

    try:
        ident = write_key_file(out)
    except PayloadKeyError as exc:
        raise InputError(str(exc)) from exc
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from exc
    click.echo(f"payload key {out} (keep it with the service, mode 0600)")
    click.echo(f"key id      {ident}")


@encryption.command()
@pass_app
def keys(app: App) -> None:
    """The payload keys PAYLOAD_KEY_FILES names, by key id; the first encrypts."""
    from gateway.payload_keys import PayloadKeyError, key_id, read_key_file

    paths = app.settings.payload_key_files
    if not paths:
        click.echo("no payload keys (PAYLOAD_KEY_FILES is not set): payloads are plain")
        return
    for i, path in enumerate(paths):
        try:
            ident = key_id(read_key_file(path))
        except PayloadKeyError as exc:
            raise InputError(str(exc)) from exc
        role = "encrypts and decrypts" if i == 0 else "decrypts"
        click.echo(f"{ident}  {path}  ({role})")
