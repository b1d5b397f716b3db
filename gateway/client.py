"""One way to reach Temporal, with the data converter every part of the service shares.

The converter is pydantic's, but it reads every payload with the validation context
``workflows.types.RECORDED``: what Temporal recorded was accepted when it entered, and is
read back as it was, even if a check added since (one line of text in a name, no control
character in free text) would refuse it today. Otherwise a case or a probation holding such
text could neither replay nor continue as new. Text is checked where it enters the service:
the same models refuse it at every front end (API, console, board, command line, imports)
before anything is sent; a client speaking to Temporal directly is an administrator.

With payload keys configured (PAYLOAD_KEY_FILES), the converter encrypts every payload and
every failure's message (``gateway.payload_codec``); every process that reaches Temporal for
the service (worker, API and console, command line) must then be given the same key files.
Without keys, payloads are plain, as the tests' own clients write them; a plain client
refuses an encrypted payload with a sentence naming the setting. The embedded stack always
has keys (its own, made on first start); production names them in its compose file.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    EncodingPayloadConverter,
    JSONPlainPayloadConverter,
)
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from gateway.payload_codec import ENCODING, EncryptionCodec, key_id_of
from gateway.payload_keys import PayloadKeyError, load_payload_keys
from settings import Settings
from workflows.types import RECORDED

log = logging.getLogger(__name__)


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


class EncryptedWithoutKeys(EncodingPayloadConverter):
    """What a converter without payload keys says of an encrypted payload (with keys, the
    codec has decrypted it before any converter sees it)."""

    @property
    def encoding(self) -> str:
        return ENCODING.decode()

    def to_payload(self, value: Any) -> Payload | None:
        return None  # never chosen to write a value

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        raise PayloadKeyError(
            f"载荷已加密（密钥 {key_id_of(payload)}），而本进程没有载荷密钥："
            "请把 PAYLOAD_KEY_FILES 设为本服务的密钥文件"
        )


# The SDK's defaults with pydantic's JSON validating as recorded, and a refusal of what is
# encrypted. Built once: the converters keep no state, and the SDK builds a payload converter
# for each workflow activation and payload context (a county-year's worker, tens of thousands).
_CONVERTERS = (
    *(
        RecordedJSONPayloadConverter() if isinstance(c, JSONPlainPayloadConverter) else c
        for c in DefaultPayloadConverter.default_encoding_payload_converters
    ),
    EncryptedWithoutKeys(),
)


class RecordedPayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        super().__init__(*_CONVERTERS)


# Plain: the converter of a process without payload keys, and of the replay tests.
DATA_CONVERTER = DataConverter(payload_converter_class=RecordedPayloadConverter)


def data_converter(settings: Settings) -> DataConverter:
    """The service's converter for these settings: encrypting when payload keys are named."""
    keys = load_payload_keys(settings.payload_key_files)
    if keys is None:
        return DATA_CONVERTER
    return DataConverter(
        payload_converter_class=RecordedPayloadConverter,
        payload_codec=EncryptionCodec(keys),
        # a failure's message and stack trace go into an encoded payload too: a refusal
        # may quote what it refused
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def warn_if_plain(settings: Settings, who: str) -> None:
    """The worker and the web service say so in their log when they write plain payloads."""
    if not settings.payload_key_files:
        log.warning(
            "%s: no payload keys (PAYLOAD_KEY_FILES): what it sends Temporal, personal data "
            "included, is stored there in plain text",
            who,
        )


async def connect(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """The client of every door; ``runtime``: the worker's (``worker_runtime``), else the
    SDK's default."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        runtime=runtime,
    )


_runtimes: dict[str, Runtime] = {}
# the logger the SDK core's lines are forwarded to
CORE_LOGGER = "temporalio.core"


def worker_runtime(settings: Settings) -> Runtime:
    """The worker's SDK runtime: the SDK core's own log lines (connection trouble, a server
    lacking a capability) go through Python's logging as ``temporalio.core``, so they come
    out as the service's structured lines; with WORKER_METRICS_ADDRESS, it serves its
    metrics (workflow and activity task counts and latencies, polls, slots, ``temporal_*``)
    for Prometheus there. One per address and process: the runtime holds the port until the
    process ends."""
    address = settings.worker_metrics_address
    key = address or ""
    if key not in _runtimes:
        logs = LoggingConfig(
            filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
            forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
        )
        metrics = (
            PrometheusConfig(bind_address=address, durations_as_seconds=True)
            if address is not None
            else None
        )
        try:
            _runtimes[key] = Runtime(telemetry=TelemetryConfig(logging=logs, metrics=metrics))
        except Exception as e:  # the SDK's core raises its own errors for a port in use
            raise RuntimeError(
                f"WORKER_METRICS_ADDRESS {address}：无法在此地址提供指标（{e}）"
            ) from e
    return _runtimes[key]
