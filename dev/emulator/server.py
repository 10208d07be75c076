"""The emulator's one HTTP server, running one deployment.

Each emulated AWS service contributes HTTP routes (`Emulator._routes`) or an event source, a
background task that invokes functions on its own (`Emulator._event_sources`); a new service
adds itself to one of those two lists. The emulator's URL also answers EventBridge (`POST /`,
`PutEvents`) and Lambda (`/2015-03-31/...`, `Invoke`) API calls, passing the operations it
does not emulate on to the AWS API emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from botocore.exceptions import BotoCoreError, ClientError

from dev.emulator import APIS_PATH, METRICS_PATH, READY_EVENT
from dev.emulator.access_logs import AccessLogWriter
from dev.emulator.async_invocations import AsyncInvoker
from dev.emulator.aws_clients import aws_clients
from dev.emulator.aws_proxy import AwsProxy
from dev.emulator.control_plane import Deployment, read_async_invoke_config, read_deployment
from dev.emulator.embedded_metrics import MetricStore
from dev.emulator.endpoints import rewrite_environment
from dev.emulator.event_bus import AwsJsonEndpoint, EventBridge, aws_json_routes
from dev.emulator.lambda_api import LambdaApi, lambda_routes
from dev.emulator.lambda_runner import DEFAULT_CONCURRENCY, Invocation, LambdaRunner
from dev.emulator.management_endpoint import ManagementEndpoint, management_routes
from dev.emulator.quotas import SYNC_INVOKE_PAYLOAD_BYTES, ConnectionTimeouts
from dev.emulator.scheduler import Scheduler
from dev.emulator.signatures import IamCallers
from dev.emulator.sockets import SocketRegistry
from dev.emulator.stream_poller import StreamPoller
from dev.emulator.websocket_api import WebSocketEndpoints, websocket_path, websocket_routes

log = logging.getLogger("emulator")


@dataclass(frozen=True)
class Options:
    aws_endpoint: str
    code_dirs: tuple[str, ...]
    host: str = "127.0.0.1"
    port: int = 0
    region: str = "us-east-1"
    time_scale: float = 1.0
    timeouts: ConnectionTimeouts = field(default_factory=ConnectionTimeouts)
    poll_interval: float = 0.2
    static_dir: Path | None = None
    function_concurrency: int = DEFAULT_CONCURRENCY


def static_routes(directory: Path) -> list[web.RouteDef]:
    """`directory` at `/`, with `index.html` for `/` itself."""

    async def index(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(directory / "index.html")

    return [web.get("/", index), web.static("/", directory)]


class Emulator:
    """Serves one deployment: call `start()` once, then `close()`."""

    def __init__(self, deployment: Deployment, options: Options) -> None:
        self.deployment = deployment
        self.options = options
        self.sockets = SocketRegistry()
        self.metrics = MetricStore()
        self.stages = {(s.api_id, s.stage): s for s in deployment.stages}
        self.url = ""
        self._functions: LambdaRunner | None = None
        self._http: web.AppRunner | None = None
        self._background: list[asyncio.Task[None]] = []
        self._access_log_task: asyncio.Task[None] | None = None
        clients = aws_clients(options.aws_endpoint, options.region)
        self.access_logs = AccessLogWriter(lambda: clients("logs"))
        self.iam_callers = IamCallers(lambda: clients("iam"))
        self.proxy = AwsProxy(options.aws_endpoint)
        lambda_client, sqs = clients("lambda"), clients("sqs")
        self.async_invocations = AsyncInvoker(
            self.invoke,
            deployment.functions,
            lambda name: read_async_invoke_config(lambda_client, name),
            sqs,
            options.time_scale,
        )
        self.event_bridge = EventBridge(
            clients("events"),
            lambda_client,
            sqs,
            deployment.functions,
            self.async_invocations,
            options.region,
        )

    async def invoke(
        self, function_name: str, event: Any, request_id: str | None = None
    ) -> Invocation:
        assert self._functions is not None, "start() first"
        return await self._functions.invoke(function_name, event, request_id)

    async def invoke_or_throttle(
        self, function_name: str, event: Any, request_id: str | None = None
    ) -> Invocation:
        """A client's synchronous `Invoke`: throttled at once at the function's concurrency
        limit."""
        assert self._functions is not None, "start() first"
        return await self._functions.invoke(function_name, event, request_id, throttle=True)

    def app(self) -> web.Application:
        # Room for the largest request an emulated API accepts, so that the API refuses it.
        app = web.Application(client_max_size=2 * SYNC_INVOKE_PAYLOAD_BYTES)
        app.add_routes(self._routes())
        return app

    def _routes(self) -> list[web.RouteDef]:
        """The emulated HTTP APIs, the emulator's description of itself, static files, then the
        AWS JSON protocol's `POST /`."""
        options = self.options
        websockets = WebSocketEndpoints(
            self.stages,
            self.sockets,
            self.invoke,
            options.region,
            options.timeouts,
            access_log=self.access_logs.write,
            caller_identity=self.iam_callers.identity,
        )
        lambda_api = LambdaApi(
            self.invoke_or_throttle, self.async_invocations, self.deployment.functions
        )
        routes = [
            *websocket_routes(websockets),
            *management_routes(ManagementEndpoint(self.sockets)),
            *lambda_routes(lambda_api, self.proxy),
            web.get(APIS_PATH, self._describe_apis),
            web.get(METRICS_PATH, self._describe_metrics),
        ]
        if options.static_dir is not None:
            routes += static_routes(options.static_dir)
        return [*routes, *aws_json_routes(AwsJsonEndpoint(self.event_bridge, self.proxy))]

    async def _event_sources(self) -> list[Callable[[], Awaitable[None]]]:
        """Stream pollers and schedules, each positioned before the emulator reports ready."""
        sources: list[Callable[[], Awaitable[None]]] = []
        if self.deployment.stream_mappings:
            client = aws_clients(self.options.aws_endpoint, self.options.region)
            streams, sqs = client("dynamodbstreams"), client("sqs")
            for mapping in self.deployment.stream_mappings:
                poller = StreamPoller(
                    mapping, streams, sqs, self.invoke, self.options.poll_interval
                )
                await self._open_without_missing_writes(poller)
                sources.append(poller.run)
        scheduler = Scheduler(
            self.deployment.schedules, self.options.region, self.invoke, self.options.time_scale
        )
        sources.append(scheduler.run)
        return sources

    @staticmethod
    async def _open_without_missing_writes(poller: StreamPoller) -> None:
        try:
            await poller.open_shards()
        except (BotoCoreError, ClientError) as exc:
            log.error("cannot open %s yet (%s); will retry", poller.mapping.stream_arn, exc)

    def api_descriptions(self) -> list[dict[str, Any]]:
        """Every WebSocket API stage with its local `ws://` URL (what `APIS_PATH` answers)."""
        ws_base = self.url.replace("http://", "ws://", 1)
        return [
            {
                "apiId": stage.api_id,
                "apiName": stage.api_name,
                "stage": stage.stage,
                "tags": dict(stage.tags),
                "url": ws_base + websocket_path(stage.api_id, stage.stage),
            }
            for stage in self.stages.values()
        ]

    async def _describe_apis(self, _request: web.Request) -> web.Response:
        return web.json_response({"apis": self.api_descriptions()})

    async def _describe_metrics(self, _request: web.Request) -> web.Response:
        return web.json_response(self.metrics.summary())

    async def start(self) -> None:
        self._http = web.AppRunner(self.app(), handle_signals=False)
        await self._http.setup()
        await web.TCPSite(self._http, self.options.host, self.options.port).start()
        self.url = f"http://{self.options.host}:{self._http.addresses[0][1]}"

        environments = {
            name: rewrite_environment(function.environment, self.url, self.stages.keys())
            for name, function in self.deployment.functions.items()
        }
        self._functions = LambdaRunner(
            self.deployment.functions,
            environments,
            self.options.aws_endpoint,
            self.options.region,
            emulator_url=self.url,
            metrics=self.metrics,
            concurrency=self.options.function_concurrency,
        )
        for source in await self._event_sources():
            self._background.append(asyncio.create_task(source()))
        self._access_log_task = asyncio.create_task(self.access_logs.run())

    def ready_message(self) -> dict[str, Any]:
        return {
            "event": READY_EVENT,
            "url": self.url,
            "apis": self.api_descriptions(),
            "functions": sorted(self.deployment.functions),
        }

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.event_bridge.close()
        await self.async_invocations.close()
        await self.sockets.close_all()
        if self._access_log_task is not None:
            # Last, so that the lines of the closing connections are written too.
            self._access_log_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._access_log_task
        if self._http is not None:
            await self._http.cleanup()
        if self._functions is not None:
            await self._functions.close()
        await self.proxy.close()


async def serve(options: Options, stop: asyncio.Event) -> None:
    """Read the deployment, serve it until `stop` is set, then shut everything down."""
    deployment = await asyncio.to_thread(
        read_deployment, options.aws_endpoint, options.region, options.code_dirs
    )
    emulator = Emulator(deployment, options)
    try:
        await emulator.start()
        print(json.dumps(emulator.ready_message()), flush=True)
        for api in emulator.api_descriptions():
            log.info("WebSocket API %s (%s) stage %s: %s", *_summary(api))
        if options.static_dir is not None:
            log.info("static files of %s: %s/", options.static_dir, emulator.url)
        await stop.wait()
        log.info("shutting down")
    finally:
        await emulator.close()


def _summary(api: dict[str, Any]) -> tuple[str, ...]:
    return api["apiName"], api["apiId"], api["stage"], api["url"]
