"""The activities' benchmark runs against a real database with inputs each activity accepts
(its figures are by hand, in bench/RESULTS.md; here only that it measures what it names)."""

from __future__ import annotations

import argparse

from bench.activity_bench import main


async def test_each_activity_is_timed_on_a_database_of_its_own() -> None:
    figures = await main(argparse.Namespace(calls=3, json=None))
    assert set(figures) == {
        "record_events",
        "record_probation_event",
        "send_mail",
        "schedule_step",
    }
    for figure in figures.values():
        assert figure["cpu_ms"] > 0 and figure["wall_ms"] > 0
