"""A replayer as the worker runs workflows: the service's data converter and sandbox
(``gateway.sandbox``), so a saved history that replays here replays in the worker."""

from __future__ import annotations

from temporalio.worker import Replayer

from gateway.client import DATA_CONVERTER
from gateway.sandbox import workflow_runner


def service_replayer(*workflows: type) -> Replayer:
    return Replayer(
        workflows=list(workflows), data_converter=DATA_CONVERTER, workflow_runner=workflow_runner()
    )
