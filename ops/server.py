"""The /healthz and /metrics endpoints of a bot or worker process, on its own event loop.

The server runs on the process's event loop on purpose: a loop blocked by stray CPU work stops
answering /healthz, which is what a liveness probe should notice.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.settings import Settings
from ops import metrics as ops

log = logging.getLogger(__name__)

REDIS_PING_TIMEOUT_S = 2.0
_ROLE = web.AppKey("role", str)
_REDIS = web.AppKey("redis", Redis)
_STARTED = web.AppKey("started", float)


async def start_ops_server(settings: Settings, redis: Redis, role: str) -> web.AppRunner | None:
    """Serve /healthz and /metrics on `ops_listen:ops_port`; None when the port is 0 (off)."""
    if settings.ops_port == 0:
        return None
    app = web.Application()
    app[_ROLE], app[_REDIS], app[_STARTED] = role, redis, time.time()
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.ops_listen, settings.ops_port).start()
    except OSError as exc:  # e.g. `headshots run`: bot and worker share one environment
        log.error("%s: no /healthz or /metrics, port %d: %s", role, settings.ops_port, exc)
        await runner.cleanup()
        return None
    log.info("%s health and metrics on %s:%d", role, settings.ops_listen, settings.ops_port)
    return runner


async def stop_ops_server(runner: web.AppRunner | None) -> None:
    """Stop the server that start_ops_server returned (None is fine)."""
    if runner is not None:
        await runner.cleanup()


async def _healthz(request: web.Request) -> web.Response:
    app = request.app
    body: dict[str, object] = {"role": app[_ROLE], "uptime_s": round(time.time() - app[_STARTED])}
    try:
        async with asyncio.timeout(REDIS_PING_TIMEOUT_S):
            await app[_REDIS].ping()
    except (RedisError, OSError, TimeoutError) as exc:
        body |= {"status": "unhealthy", "redis": f"unreachable: {type(exc).__name__}"}
        return web.json_response(body, status=503)
    return web.json_response(body | {"status": "ok", "redis": "ok"})


async def _metrics(request: web.Request) -> web.Response:
    try:
        await ops.refresh(request.app[_REDIS])
    except (RedisError, OSError):
        log.warning("queue length unknown: Redis unreachable")
    return web.Response(
        body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )
