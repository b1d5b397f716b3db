"""The instance benchmark creates the case's instance with the worker's runner, either way of
importing (its figures are by hand, in bench/RESULTS.md; here only that it measures what it
names and refuses what it cannot)."""

from __future__ import annotations

import re
import sys

import pytest

from bench.instance_bench import main
from gateway.module_code import SandboxCodeFinder


@pytest.mark.parametrize(
    ("flags", "imports"), [([], "kept module code"), (["--sdk-import"], "SDK")]
)
def test_it_times_the_cases_instances(
    flags: list[str],
    imports: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))  # --sdk-import takes the finder out
    assert main(["--instances", "2", "--rounds", "1", *flags]) == 0
    out = capsys.readouterr().out
    found = re.search(r"best (\d+\.\d\d) ms per instance", out)
    assert found is not None and float(found.group(1)) > 0, out
    assert imports in out
    assert (SandboxCodeFinder in sys.meta_path) is (not flags)


@pytest.mark.parametrize("flags", [["--instances", "-1"], ["--rounds", "0"]])
def test_it_refuses_a_count_it_cannot_run(
    flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        main(flags)
    assert e.value.code == 2
    assert "--instances must be 0 or more" in capsys.readouterr().err
