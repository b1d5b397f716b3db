"""One way to reach Temporal, with the data converter every part of the service shares.

The converter is pydantic's, but it reads every payload with the validation context
``workflows.types.RECORDED``: what Temporal recorded was accepted when it entered, and is
read back as it was, even if a check added since (one line of text in a name, no control
character in free text) would refuse it today. Otherwise a case or a probation holding such
text could neither replay nor continue as new. Text is checked where it enters the service:
the same models refuse it at every front end (API, console, board, command line, imports)
before anything is sent; a client speaking to Temporal directly is an administrator.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

from settings import Settings
from workflows.types import RECORDED


@functools.lru_cache(maxsize=1024)
def _adapter(type_hint: Any) -> TypeAdapter[Any]:
    return TypeAdapter(type_hint)


class RecordedJSONPayloadConverter(PydanticJSONPlainPayloadConverter):
    """Pydantic's JSON converter, validating with the context ``RECORDED``."""

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        hint: Any = Any if type_hint is None else type_hint
        try:
            adapter = _adapter(hint)
        except TypeError:  # an unhashable hint: not cached
            adapter = TypeAdapter(hint)
        return adapter.validate_json(payload.data, context=RECORDED)


class RecordedPayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        json = RecordedJSONPayloadConverter()
        super().__init__(
            *(
                json if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


DATA_CONVERTER = DataConverter(payload_converter_class=RecordedPayloadConverter)


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=DATA_CONVERTER,
    )
