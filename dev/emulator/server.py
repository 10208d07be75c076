"""The gateway: one aiohttp server for the WebSocket endpoints, `@connections` and the dashboard."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from botocore.exceptions import BotoCoreError, ClientError

from dev.emulator.connections import ConnectionRegistry
from dev.emulator.control_plane import Deployment, read_deployment
from dev.emulator.endpoints import rewrite_environment
from dev.emulator.lambda_runner import Invocation, LambdaRunner
from dev.emulator.management_api import ManagementApi, management_routes
from dev.emulator.scheduler import Scheduler
from dev.emulator.stream_poller import StreamPoller, stream_clients
from dev.emulator.websocket_api import Limits, WebSocketEndpoints, websocket_routes

log = logging.getLogger("emulator")

DASHBOARD_DIR = Path(__file__).with_name("dashboard")
DEFAULT_CODE_DIR = Path(__file__).resolve().parents[2] / "functions" / "dist"


@dataclass(frozen=True)
class Options:
    aws_endpoint: str
    host: str = "127.0.0.1"
    port: int = 0
    region: str = "us-east-1"
    time_scale: float = 1.0
    limits: Limits = field(default_factory=Limits)
    poll_interval: float = 0.2
    code_dirs: tuple[str, ...] = (str(DEFAULT_CODE_DIR),)


class Gateway:
    """Runs one deployment: call `start()` once, then `close()`."""

    def __init__(self, deployment: Deployment, options: Options) -> None:
        self.deployment = deployment
        self.options = options
        self.registry = ConnectionRegistry()
        self.stages = {(s.api_id, s.stage): s for s in deployment.stages}
        self.url = ""
        self._runner: LambdaRunner | None = None
        self._site_runner: web.AppRunner | None = None
        self._background: list[asyncio.Task[None]] = []

    async def invoke(self, function_name: str, event: Any) -> Invocation:
        assert self._runner is not None, "start() first"
        return await self._runner.invoke(function_name, event)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        endpoints = WebSocketEndpoints(
            self.stages, self.registry, self.invoke, self.options.region, self.options.limits
        )
        app.add_routes(websocket_routes(endpoints))
        app.add_routes(management_routes(ManagementApi(self.registry)))
        app.router.add_get("/config.json", self._config)
        if DASHBOARD_DIR.is_dir():
            app.router.add_get("/", self._dashboard_index)
            app.router.add_static("/", DASHBOARD_DIR)
        return app

    def channel_urls(self) -> dict[str, str]:
        ws_base = self.url.replace("http://", "ws://", 1)
        return {s.channel: f"{ws_base}/ws/{s.api_id}/{s.stage}" for s in self.stages.values()}

    async def _config(self, _request: web.Request) -> web.Response:
        urls = self.channel_urls()
        channels = [
            {"name": s.channel, "apiId": s.api_id, "stage": s.stage, "url": urls[s.channel]}
            for s in self.stages.values()
        ]
        return web.json_response({"channels": channels})

    async def _dashboard_index(self, _request: web.Request) -> web.FileResponse:
        return web.FileResponse(DASHBOARD_DIR / "index.html")

    async def start(self) -> None:
        self._site_runner = web.AppRunner(self.app(), handle_signals=False)
        await self._site_runner.setup()
        site = web.TCPSite(self._site_runner, self.options.host, self.options.port)
        await site.start()
        port = self._site_runner.addresses[0][1]
        self.url = f"http://{self.options.host}:{port}"

        environments = {
            name: rewrite_environment(function.environment, self.url, self.stages.keys())
            for name, function in self.deployment.functions.items()
        }
        self._runner = LambdaRunner(
            self.deployment.functions, environments, self.options.aws_endpoint, self.options.region
        )
        await self._start_pollers()
        scheduler = Scheduler(
            self.deployment.schedules, self.options.region, self.invoke, self.options.time_scale
        )
        self._background.append(asyncio.create_task(scheduler.run()))

    async def _start_pollers(self) -> None:
        """Take each stream's starting position before reporting ready, so no write is missed."""
        if not self.deployment.stream_mappings:
            return
        streams, sqs = stream_clients(self.options.aws_endpoint, self.options.region)
        pollers = [
            StreamPoller(mapping, streams, sqs, self.invoke, self.options.poll_interval)
            for mapping in self.deployment.stream_mappings
        ]
        for poller in pollers:
            try:
                await poller.open_shards()
            except (BotoCoreError, ClientError) as exc:
                log.error("cannot open %s yet (%s); will retry", poller.mapping.stream_arn, exc)
            self._background.append(asyncio.create_task(poller.run()))

    def ready_message(self) -> dict[str, Any]:
        return {
            "event": "ready",
            "url": self.url,
            "dashboard": f"{self.url}/",
            "channels": self.channel_urls(),
            "functions": sorted(self.deployment.functions),
        }

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.registry.close_all()
        if self._site_runner is not None:
            await self._site_runner.cleanup()
        if self._runner is not None:
            await self._runner.close()


async def serve(options: Options, stop: asyncio.Event) -> None:
    """Read the deployment, serve it until `stop` is set, then shut everything down."""
    deployment = await asyncio.to_thread(
        read_deployment, options.aws_endpoint, options.region, options.code_dirs
    )
    gateway = Gateway(deployment, options)
    try:
        await gateway.start()
        print(json.dumps(gateway.ready_message()), flush=True)
        for name, url in gateway.channel_urls().items():
            log.info("channel %s: %s", name, url)
        log.info("dashboard: %s/", gateway.url)
        await stop.wait()
        log.info("shutting down")
    finally:
        await gateway.close()
