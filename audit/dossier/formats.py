"""The three formats as one: a dossier rendered in any of them and parsed back, the format of
a file told from its text, and a rendered dossier written to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.dossier.coverage import without_heads
from audit.dossier.csv_format import dossier_from_csv, render_csv
from audit.dossier.html_format import dossier_from_html, render_html
from audit.dossier.json_format import dossier_from_json, render_json
from audit.dossier.spec import FORMATS


def render(dossier: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return render_json(dossier)
    if fmt == "csv":
        return render_csv(without_heads(dossier))
    if fmt == "html":
        return render_html(dossier)
    raise ValueError(f"无法识别的格式 {fmt!r}；请用 {'、'.join(FORMATS)} 之一")


def parse(text: str, fmt: str) -> dict[str, Any]:
    """The dossier a text of format ``fmt`` carries; DossierError (json.JSONDecodeError for
    JSON that is not JSON) if it carries none."""
    if fmt == "json":
        return dossier_from_json(text)
    if fmt == "html":
        return dossier_from_html(text)
    return dossier_from_csv(text)


def sniff(text: str) -> str:
    start = text.lstrip()[:20].lower()
    if start.startswith("{"):
        return "json"
    if start.startswith("<!doctype") or start.startswith("<html"):
        return "html"
    return "csv"


def write(text: str, path: Path, fmt: str) -> None:
    # The CSV gets a byte-order mark so that spreadsheet programs read it as UTF-8.
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    with path.open("w", encoding=encoding, newline="") as out:
        out.write(text)
