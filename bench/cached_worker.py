"""The service's worker with another workflow cache size, for the parked-cases benchmark.

    .venv/bin/python -m bench.cached_worker MAX_CACHED_WORKFLOWS

Exactly ``appointments worker`` (``starter.cli`` → ``worker.run_worker`` →
``worker.build_worker``, the same settings from the environment), except that the SDK
``Worker`` it builds keeps at most MAX_CACHED_WORKFLOWS workflows in its cache instead of
the SDK's default (1,000; ``build_worker`` does not set it). Used only when
``bench.parked_bench`` is given ``--max-cached-workflows``; without it the benchmark runs
the production entry point itself.
"""

from __future__ import annotations

import functools
import sys

import temporalio.worker

import worker


def main(argv: list[str]) -> None:
    if len(argv) != 1 or not argv[0].isdigit():
        raise SystemExit("usage: python -m bench.cached_worker MAX_CACHED_WORKFLOWS")
    size = int(argv[0])
    # build_worker looks the class up in its module at call time
    worker.Worker = functools.partial(  # type: ignore[misc,assignment]
        temporalio.worker.Worker, max_cached_workflows=size
    )
    from starter.cli import main as cli_main

    sys.argv = ["appointments", "worker"]
    cli_main()


if __name__ == "__main__":
    main(sys.argv[1:])
