"""EventBridge `PutEvents`, and the delivery of each event to the rules whose pattern matches it.

Served on the emulator's URL in the AWS JSON 1.1 protocol (`POST /`, `X-Amz-Target:
AWSEvents.PutEvents`), so an `events` client whose `endpoint_url` is the emulator works
unchanged; every other `AWSEvents.*` operation is passed on to the AWS API emulator.

`PutEvents` checks the request (1-10 entries, 256 KB in all) and each entry (`Source`,
`DetailType` and a JSON object `Detail` required, an existing bus), answers `FailedEntryCount`
and one result per entry (its `EventId`, or `ErrorCode`/`ErrorMessage`), then delivers each
accepted event to every enabled rule with an event pattern on its bus (read from the AWS API
emulator at each call) whose pattern matches the event (`filters.py`).

A Lambda target is invoked asynchronously (`async_invocations.py`): from there on, failures are
the function's (its retries, its on-failure destination). Only an event EventBridge cannot hand
to the function at all goes to the target's dead-letter queue, at once and without retries, as
AWS does for these errors: `NO_RESOURCE` when the function is not deployed, `NO_PERMISSIONS`
when its resource policy does not let `events.amazonaws.com` invoke it for this rule. The
message is the event, with the attributes `RULE_ARN`, `TARGET_ARN`, `ERROR_CODE`,
`ERROR_MESSAGE`. A target's `Input` or `InputPath` (`$` or `$.a.b`) replaces the event; other
targets and `InputTransformer` are not emulated (logged and skipped), nor are sources AWS
reserves (`aws.*`, which AWS refuses to other callers) or archives and replays.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from botocore.exceptions import BotoCoreError, ClientError

from dev.emulator.async_invocations import AsyncInvoker
from dev.emulator.aws_proxy import AwsProxy
from dev.emulator.control_plane import (
    DeployedFunction,
    EventBus,
    EventRule,
    RuleTarget,
    event_bus_name,
    read_event_bus,
    read_resource_policy,
)
from dev.emulator.events import bus_event
from dev.emulator.filters import UnsupportedFilter, matches
from dev.emulator.queues import is_queue_arn, send_to_queue
from dev.emulator.resource_policies import service_may_invoke

log = logging.getLogger("emulator.events")

MAX_ENTRIES = 10
MAX_ENTRIES_BYTES = 256 * 1024
TIME_ENTRY_BYTES = 14
EVENTS_PRINCIPAL = "events.amazonaws.com"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"


class RequestRefused(Exception):
    """The whole request is refused: an AWS JSON error with HTTP 400."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class UnsupportedTarget(ValueError):
    """A target setting the emulator does not apply: the event is not delivered to it."""


class EntryRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.result = {"ErrorCode": code, "ErrorMessage": message}


@dataclass(frozen=True)
class Undeliverable:
    """Why EventBridge could not hand an event to a target (a dead-letter `ERROR_CODE`)."""

    code: str
    message: str


def entry_size(entry: Mapping[str, Any]) -> int:
    """A `PutEventsRequestEntry`'s size as EventBridge counts it against the 256 KB limit."""
    size = TIME_ENTRY_BYTES if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        if isinstance(entry.get(name), str):
            size += len(entry[name].encode())
    for resource in entry.get("Resources") or ():
        if isinstance(resource, str):
            size += len(resource.encode())
    return size


def check_request(request: Any) -> list[Mapping[str, Any]]:
    entries = request.get("Entries") if isinstance(request, Mapping) else None
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_ENTRIES:
        raise RequestRefused(
            "ValidationException",
            "1 validation error detected: Value at 'entries' failed to satisfy constraint: "
            f"Member must have length between 1 and {MAX_ENTRIES}",
        )
    if not all(isinstance(entry, Mapping) for entry in entries):
        raise RequestRefused("SerializationException", "Entries must be objects")
    if sum(entry_size(entry) for entry in entries) > MAX_ENTRIES_BYTES:
        raise RequestRefused(
            "ValidationException", "Total size of the entries in the request is over the limit."
        )
    return entries


def entry_detail(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's `Detail` as an object; EntryRefused for a missing or malformed field."""
    for name in ("Source", "DetailType", "Detail"):
        if not isinstance(entry.get(name), str) or not entry[name]:
            raise EntryRefused(
                "InvalidArgument",
                f"Parameter {name} is not valid. Reason: {name} is a required argument.",
            )
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        detail = None
    if not isinstance(detail, dict):
        raise EntryRefused("MalformedDetail", "Detail is malformed.")
    resources = entry.get("Resources") or []
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        raise EntryRefused("InvalidArgument", "Parameter Resources is not valid.")
    return detail


def entry_time(entry: Mapping[str, Any], now: float) -> datetime:
    """`Time` as the JSON protocol sends it (epoch seconds), else the time of the call."""
    value = entry.get("Time")
    if value is None:
        return datetime.fromtimestamp(now, UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    raise EntryRefused("InvalidArgument", "Parameter Time is not valid.")


def target_payload(target: RuleTarget, event: dict[str, Any]) -> Any:
    """What the target receives: the event, its constant `Input`, or the part `InputPath`
    selects. Raises UnsupportedTarget for what the emulator does not transform."""
    if target.input_transformer:
        raise UnsupportedTarget(f"target {target.target_id}: InputTransformer is not emulated")
    if target.input is not None:
        return json.loads(target.input)
    if target.input_path is None or target.input_path == "$":
        return event
    if not target.input_path.startswith("$."):
        raise UnsupportedTarget(f"target {target.target_id}: InputPath {target.input_path}")
    selected: Any = event
    for part in target.input_path.removeprefix("$.").split("."):
        selected = selected.get(part) if isinstance(selected, Mapping) else None
    return selected


class EventBridge:
    """The buses of the AWS API emulator, with `PutEvents` and delivery to Lambda targets.

    `events`, `lambda_client` and `sqs` are boto3 clients of the AWS API emulator (called off
    the event loop); `functions` are the deployed functions the emulator runs.
    """

    def __init__(
        self,
        events: Any,
        lambda_client: Any,
        sqs: Any,
        functions: Mapping[str, DeployedFunction],
        async_invoker: AsyncInvoker,
        region: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._events = events
        self._lambda = lambda_client
        self._sqs = sqs
        self._functions = functions
        self._async = async_invoker
        self._region = region
        self._clock = clock
        self._deliveries: set[asyncio.Task[None]] = set()

    async def put_events(self, request: Any) -> dict[str, Any]:
        """Answer a `PutEvents` request; the accepted events are delivered in the background."""
        entries = check_request(request)
        buses: dict[str, EventBus | None] = {}
        results: list[dict[str, str]] = []
        accepted: list[tuple[EventBus, dict[str, Any]]] = []
        now = self._clock()
        for entry in entries:
            try:
                detail = entry_detail(entry)
                when = entry_time(entry, now)
                bus = await self._bus(buses, event_bus_name(entry.get("EventBusName")))
            except EntryRefused as refused:
                results.append(refused.result)
                continue
            event = bus_event(
                event_id=str(uuid.uuid4()),
                source=entry["Source"],
                detail_type=entry["DetailType"],
                detail=detail,
                account=bus.account,
                region=self._region,
                when=when,
                resources=entry.get("Resources") or (),
            )
            results.append({"EventId": event["id"]})
            accepted.append((bus, event))
        if accepted:
            self._start(self._deliver_all(accepted))
        failed = sum(1 for result in results if "ErrorCode" in result)
        return {"FailedEntryCount": failed, "Entries": results}

    async def _bus(self, buses: dict[str, EventBus | None], name: str) -> EventBus:
        """The bus as it is now, read once per request."""
        if name not in buses:
            try:
                buses[name] = await asyncio.to_thread(read_event_bus, self._events, name)
            except ClientError as error:
                if error.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                buses[name] = None
        bus = buses[name]
        if bus is None:
            raise EntryRefused("ResourceNotFoundException", f"Event bus {name} does not exist.")
        return bus

    def _start(self, delivery: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(delivery)
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver_all(self, accepted: list[tuple[EventBus, dict[str, Any]]]) -> None:
        for bus, event in accepted:
            for rule in bus.rules:
                try:
                    matched = matches(rule.pattern, event)
                except UnsupportedFilter as unsupported:
                    log.error("rule %s not evaluated: %s", rule.name, unsupported)
                    continue
                if not matched:
                    continue
                for target in rule.targets:
                    try:
                        await self._deliver(bus, rule, target, event)
                    except Exception:
                        log.exception("event %s to %s of rule %s", event["id"], target, rule.name)

    async def _deliver(
        self, bus: EventBus, rule: EventRule, target: RuleTarget, event: dict[str, Any]
    ) -> None:
        function_name = target.function_name
        if function_name is None:
            log.warning("rule %s: target %s is not emulated", rule.name, target.arn)
            return
        try:
            payload = target_payload(target, event)
        except UnsupportedTarget as unsupported:
            log.warning("rule %s: %s; not delivered", rule.name, unsupported)
            return
        refusal = await self._refusal(bus, rule, function_name)
        if refusal is not None:
            await self._dead_letter(rule, target, event, refusal)
            return
        request_id = self._async.submit(function_name, payload)
        log.info(
            "event %s (%s) rule %s → %s, request %s",
            event["id"],
            event["detail-type"],
            rule.name,
            function_name,
            request_id,
        )

    async def _refusal(
        self, bus: EventBus, rule: EventRule, function_name: str
    ) -> Undeliverable | None:
        if function_name not in self._functions:
            return Undeliverable("NO_RESOURCE", f"Function not found: {function_name}")
        policy = await asyncio.to_thread(read_resource_policy, self._lambda, function_name)
        if not service_may_invoke(policy, EVENTS_PRINCIPAL, rule.arn, bus.account):
            return Undeliverable(
                "NO_PERMISSIONS",
                f"{EVENTS_PRINCIPAL} is not allowed to invoke {function_name} for {rule.arn}",
            )
        return None

    async def _dead_letter(
        self, rule: EventRule, target: RuleTarget, event: dict[str, Any], why: Undeliverable
    ) -> None:
        queue = target.dead_letter_arn
        log.warning(
            "event %s not delivered to %s (rule %s): %s %s%s",
            event["id"],
            target.arn,
            rule.name,
            why.code,
            why.message,
            f"; to {queue}" if queue else "; dropped",
        )
        if queue is None:
            return
        if not is_queue_arn(queue):
            log.warning("dead-letter queue %s of rule %s is not SQS", queue, rule.name)
            return
        attributes = {
            "RULE_ARN": rule.arn,
            "TARGET_ARN": target.arn,
            "ERROR_CODE": why.code,
            "ERROR_MESSAGE": why.message,
        }
        await send_to_queue(self._sqs, queue, event, attributes)

    async def idle(self) -> None:
        """Wait until every accepted event has been handed to its targets (or dead-lettered)."""
        while self._deliveries:
            await asyncio.gather(*list(self._deliveries), return_exceptions=True)

    async def close(self) -> None:
        tasks = list(self._deliveries)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def json_error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response(
        {"__type": error_type, "message": message}, status=status, content_type=JSON_CONTENT_TYPE
    )


class AwsJsonEndpoint:
    """`POST /` of the AWS JSON protocol: `PutEvents` here, the rest of EventBridge passed on."""

    def __init__(self, bridge: EventBridge, proxy: AwsProxy) -> None:
        self._bridge = bridge
        self._proxy = proxy

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            raise web.HTTPNotFound()
        service, _, operation = request.headers.get("X-Amz-Target", "").partition(".")
        if service != "AWSEvents":
            return json_error(400, "UnknownOperationException", "Unknown operation")
        if operation != "PutEvents":
            return await self._proxy.forward(request)
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            return json_error(400, "SerializationException", "The request body is not JSON")
        try:
            answer = await self._bridge.put_events(body)
        except RequestRefused as refused:
            return json_error(400, refused.error_type, refused.message)
        except (BotoCoreError, ClientError) as error:
            log.error("PutEvents: cannot read the event buses: %s", error)
            return json_error(500, "InternalException", "The event buses cannot be read")
        return web.json_response(answer, content_type=JSON_CONTENT_TYPE)


def aws_json_routes(endpoint: AwsJsonEndpoint) -> list[web.RouteDef]:
    """`/` for every method, so that another route of `/` (a static index) may come first."""
    return [web.route("*", "/", endpoint.handle)]
