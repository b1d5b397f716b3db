"""What creating one appointment case's workflow instance costs in the worker's sandbox.

    python -m bench.instance_bench [--instances N] [--rounds R] [--sdk-import]

Creates the case's instance N times with the worker's own runner (``gateway.sandbox``), after
one to warm up, as the worker does for each run it takes up (a case begun, resumed, continued as
new), and prints the best milliseconds per instance of R rounds. ``--sdk-import`` takes the
sandbox's imports as the SDK makes them, without the kept module code (``gateway.module_code``).

Timings on a shared machine scatter; for a figure that does not, count instructions:
``valgrind --tool=callgrind python -m bench.instance_bench --instances 0`` and again with
``--instances 20``: the difference over 20 is one instance (bench/RESULTS.md, Pipeline, tenth
session). Whether bytecode files are read is the environment's (``PYTHONDONTWRITEBYTECODE``,
``__pycache__`` folders present or not), and is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence

from temporalio import workflow
from temporalio.api.common.v1 import Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter
from temporalio.worker import WorkflowInstanceDetails, WorkflowRunner

from gateway.module_code import SandboxCodeFinder
from gateway.sandbox import workflow_runner
from workflows.appointment_case import AppointmentCaseWorkflow


def instance_details(cls: type = AppointmentCaseWorkflow) -> WorkflowInstanceDetails:
    """The details the SDK gives a runner to check a workflow class (its own fake run's)."""
    from temporalio.worker.workflow_sandbox._runner import _fake_info

    converter = DataConverter.default
    return WorkflowInstanceDetails(
        payload_converter_factory=converter._new_payload_converter,
        failure_converter_class=converter.failure_converter_class,
        interceptor_classes=[],
        defn=workflow._Definition.must_from_class(cls),
        info=_fake_info,
        randomness_seed=-1,
        extern_functions={},
        disable_eager_activity_execution=False,
        worker_level_failure_exception_types=[],
        patch_activation_callback=None,
        last_completion_result=Payloads(),
        last_failure=Failure(),
    )


async def best_ms_per_instance(runner: WorkflowRunner, instances: int, rounds: int) -> float:
    """The best of ``rounds`` rounds of ``instances`` instances, in ms per instance (0 for none)."""
    details = instance_details()
    runner.create_instance(details)  # the imports a worker makes once
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(instances):
            runner.create_instance(details)
        best = min(best, (time.perf_counter() - started) * 1000 / max(instances, 1))
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=50, help="instances a round (0: none)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--sdk-import", action="store_true", help="the SDK's imports, no kept module code"
    )
    args = parser.parse_args(argv)
    if args.instances < 0 or args.rounds < 1:
        parser.error("--instances must be 0 or more and --rounds 1 or more")
    runner = workflow_runner()
    if args.sdk_import:
        sys.meta_path[:] = [f for f in sys.meta_path if f is not SandboxCodeFinder]
    ms = asyncio.run(best_ms_per_instance(runner, args.instances, args.rounds))
    imports = "the SDK's" if args.sdk_import else "kept module code"
    bytecode = "not written" if sys.dont_write_bytecode else "written"
    print(
        f"{args.instances} instances × {args.rounds} rounds ({imports}; bytecode files "
        f"{bytecode}): best {ms:.2f} ms per instance"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
