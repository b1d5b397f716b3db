"""The local activities a history ran, read off their markers (the SDK's core keeps each local
activity's type in its marker's data)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from temporalio.api.history.v1 import HistoryEvent

from workflows.activity_refs import LOCAL_ACTIVITY_MARKER


def local_activity_types(events: Sequence[HistoryEvent]) -> list[str]:
    """The activity type of each local activity in ``events``, in order."""
    return [
        json.loads(marker.details["data"].payloads[0].data)["activity_type"]
        for marker in (e.marker_recorded_event_attributes for e in events)
        if marker.marker_name == LOCAL_ACTIVITY_MARKER
    ]
