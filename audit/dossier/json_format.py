"""The JSON dossier: the whole dossier, every chain's head included."""

from __future__ import annotations

import json
from typing import Any

from audit.dossier.spec import DossierError


def render_json(dossier: dict[str, Any]) -> str:
    return json.dumps(dossier, ensure_ascii=False, indent=2) + "\n"


def dossier_from_json(text: str) -> dict[str, Any]:
    """The dossier of a JSON file; json.JSONDecodeError if the text is not JSON at all."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise DossierError("不是案卷：JSON 不是对象")
    return data
