"""The retry policy that lets a long-lived process (the worker) wait out a Redis restart.

redis-py retries a command only when the client is given both a `retry` and the errors to retry
on; without them the first refused connection raises, and arq's poll loop ends the worker.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# OSError too: redis-py reconnects a pooled connection before its retry loop starts, and a
# refused connect there raises ConnectionRefusedError, retried only when it is listed.
# BusyLoadingError (Redis reading its append-only file) is a ConnectionError.
RETRIED_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
_BASE_S, _CAP_S = 0.1, 2.0


def riding_retry(outage_s: float) -> Retry:
    """Return a policy that keeps trying a lost Redis for about `outage_s`, 2 s apart at most."""
    return Retry(ExponentialBackoff(_CAP_S, _BASE_S), int(outage_s / _CAP_S) + 5)


def client_options(outage_s: float) -> dict[str, Any]:
    """Return redis-py client options that ride out an outage of about `outage_s`."""
    return {"retry": riding_retry(outage_s), "retry_on_error": list(RETRIED_ERRORS)}
