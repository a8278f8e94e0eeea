"""Checks `headshots doctor` runs: each says what is wrong and how to fix it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis import Redis
from redis.exceptions import RedisError, ResponseError

from core.settings import Settings
from engine.jobs.contract import Tier
from engine.jobs.keys import LEGACY_QUEUE, WORKER_UNAVAILABLE, queue_name, workers_key
from engine.jobs.workers import GONE_AFTER_S

ROLES = ("all", "bot", "worker")


@dataclass(frozen=True)
class Finding:
    """One check's outcome: `ok` false means the deployment will not work as configured."""

    check: str
    ok: bool
    detail: str
    fix: str = ""


def run_checks(settings: Settings, role: str) -> list[Finding]:
    """Run the checks that matter for `role` ("bot", "worker" or "all")."""
    checks: list[Callable[[Settings], list[Finding]]] = [check_redis, check_storage, check_workers]
    if role in {"all", "bot"}:
        checks.append(check_chat)
    if role in {"all", "worker"}:
        checks += [check_gpu, check_base_model]
    return [finding for check in checks for finding in _safely(check, settings)]


def _safely(check: Callable[[Settings], list[Finding]], settings: Settings) -> list[Finding]:
    try:
        return check(settings)
    except Exception as exc:  # a check that crashes is itself a finding, not a traceback
        name = check.__name__.removeprefix("check_")
        return [Finding(name, False, f"{type(exc).__name__}: {exc}", "see the error above")]


def check_redis(settings: Settings) -> list[Finding]:
    """Redis answers, keeps what it is given (AOF), and never evicts queue keys."""
    client = Redis.from_url(settings.redis_url, socket_timeout=3, socket_connect_timeout=3)
    try:
        info: dict[str, Any] = client.info("server")  # type: ignore[assignment]
    except (RedisError, OSError) as exc:
        client.close()
        return [
            Finding(
                "redis",
                False,
                f"cannot reach {redact_url(settings.redis_url)}: {exc}",
                "start redis-server, or fix HEADSHOTS_REDIS_URL",
            )
        ]
    try:
        found = [Finding("redis", True, f"Redis {info.get('redis_version')} answers")]
        return found + _redis_config(client)
    finally:
        client.close()


def _redis_config(client: Redis) -> list[Finding]:
    try:
        aof = _config(client, "appendonly")
        policy = _config(client, "maxmemory-policy")
    except ResponseError:  # managed Redis often disables CONFIG
        return [
            Finding(
                "redis config",
                True,
                "CONFIG is disabled; check persistence and the "
                "eviction policy in your provider's console",
            )
        ]
    found = []
    if aof != "yes":
        found.append(
            Finding(
                "redis persistence",
                False,
                "appendonly is off: a restart of Redis loses queued packs, sessions and progress",
                "run Redis with `appendonly yes` (deploy/compose.yaml does)",
            )
        )
    if policy != "noeviction":
        found.append(
            Finding(
                "redis eviction",
                False,
                f"maxmemory-policy is {policy}: under "
                "memory pressure Redis may drop queue and session keys",
                "set `maxmemory-policy noeviction`",
            )
        )
    return found or [Finding("redis config", True, "appendonly yes, maxmemory-policy noeviction")]


def redis_appendonly(url: str) -> str | None:
    """Return Redis's `appendonly` ("yes" or "no"), or None when it cannot be read."""
    client = Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        return _config(client, "appendonly")
    except (RedisError, OSError):  # CONFIG disabled (managed Redis), or not reachable
        return None
    finally:
        client.close()


def _config(client: Redis, name: str) -> str:
    reply: dict[str, str] = client.config_get(name)  # type: ignore[assignment]
    value = reply.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def check_workers(settings: Settings) -> list[Finding]:
    """Per tier, its live workers and waiting packs; or why the last worker could not start."""
    # The sync client's replies are typed as maybe-awaitable; they are plain values here.
    client: Any = Redis.from_url(settings.redis_url, socket_timeout=3, socket_connect_timeout=3)
    try:
        seconds, micros = client.time()  # the clock the heartbeats are scored by
        since = float(seconds) + float(micros) / 1e6 - GONE_AFTER_S
        live = {tier: int(client.zcount(workers_key(tier), since, "+inf")) for tier in Tier}
        queued = {tier: int(client.zcard(queue_name(tier))) for tier in Tier}
        legacy = int(client.zcard(LEGACY_QUEUE))
        reason = client.get(WORKER_UNAVAILABLE)
    except (RedisError, OSError):
        return []  # check_redis says what is wrong
    finally:
        client.close()
    if reason is not None and not any(live.values()):
        why = reason.decode() if isinstance(reason, bytes) else str(reason)
        return [Finding("worker", False, f"the last worker could not start: {why}", FIX_WORKER)]
    configured = {Tier.STUDIO: settings.studio, Tier.EXPRESS: settings.express_studio}
    shown = [tier for tier in Tier if configured[tier] or live[tier] or queued[tier]]
    found = [_tier_workers(tier, live[tier], queued[tier]) for tier in shown]
    if legacy:
        found.append(
            Finding(
                "worker",
                True,
                f"{legacy} job(s) wait in the old single queue {LEGACY_QUEUE}"
                "; the next worker to start moves them to their tier's queue",
            )
        )
    return found


def _tier_workers(tier: Tier, live: int, queued: int) -> Finding:
    name = f"{tier} workers"
    if live:
        return Finding(name, True, f"{live} live, {queued} pack(s) in the {tier} queue")
    return Finding(name, True, f"no {tier} worker is running now ({queued} pack(s) wait for one)")


FIX_WORKER = "fix that, then start `headshots worker` (or `headshots run`)"


def check_storage(settings: Settings) -> list[Finding]:
    """A blob can be written, read back and deleted."""
    return asyncio.run(_storage_round_trip(settings))


async def _storage_round_trip(settings: Settings) -> list[Finding]:
    from storage.blobs_open import open_blob_store

    key = f"doctor/probe-{uuid.uuid4().hex}"
    blobs = open_blob_store(settings)
    try:
        await blobs.put(key, b"headshots doctor")
        same = await blobs.get(key) == b"headshots doctor"
        await blobs.delete(key)
    except Exception as exc:
        return [
            Finding(
                "storage",
                False,
                f"{settings.storage_url}: {type(exc).__name__}: {exc}",
                "check HEADSHOTS_STORAGE_URL, the bucket and the HEADSHOTS_S3_* "
                "credentials (or the folder's permissions)",
            )
        ]
    finally:
        await blobs.close()
    if not same:
        return [
            Finding(
                "storage",
                False,
                "a blob read back differs from what was written",
                "check HEADSHOTS_BLOB_ENCRYPTION_KEY is the same on every process",
            )
        ]
    return [Finding("storage", True, f"{settings.storage_url} writes, reads and deletes")]


def check_chat(settings: Settings) -> list[Finding]:
    """A chat platform is configured; webhook mode is HTTPS with a secret."""
    if settings.telegram_token is None and settings.discord_token is None:
        return [
            Finding(
                "chat",
                False,
                "no chat token: the bot would only run in the console",
                "set HEADSHOTS_TELEGRAM_TOKEN (from @BotFather) or HEADSHOTS_DISCORD_TOKEN",
            )
        ]
    url = settings.telegram_webhook_url
    if url is None:
        return [Finding("chat", True, "token set; Telegram by long polling")]
    if not url.startswith("https://"):
        return [
            Finding(
                "telegram webhook",
                False,
                f"{url} is not HTTPS; Telegram refuses it",
                "put the bot behind a TLS reverse proxy (docs/operations.md)",
            )
        ]
    if settings.telegram_webhook_secret is None:
        return [
            Finding(
                "telegram webhook",
                False,
                "no secret: anyone who finds the URL can post fake updates",
                "set HEADSHOTS_TELEGRAM_WEBHOOK_SECRET (`openssl rand -hex 32`)",
            )
        ]
    return [Finding("chat", True, f"Telegram webhook at {url} with a secret token")]


def check_gpu(settings: Settings) -> list[Finding]:
    """A CUDA GPU is visible to torch."""
    import torch

    if not torch.cuda.is_available():
        version = torch.__version__
        return [
            Finding(
                "gpu",
                False,
                f"torch {version} sees no CUDA GPU: a real pack would take hours on the CPU",
                "install the CUDA build of torch (README, GPU "
                "hosts) and the NVIDIA driver; in Docker, the NVIDIA container "
                "toolkit",
            )
        ]
    props = torch.cuda.get_device_properties(0)
    memory_gib = props.total_memory / 2**30
    found = [Finding("gpu", True, f"{props.name}, {memory_gib:.0f} GiB, torch {torch.__version__}")]
    if memory_gib < 15:
        found.append(
            Finding(
                "gpu memory",
                False,
                f"{memory_gib:.0f} GiB is too little for SDXL LoRA training",
                "use a GPU with 16 GiB or more, or an SD 1.5 base model",
            )
        )
    return found


def check_base_model(settings: Settings) -> list[Finding]:
    """The base model is a diffusers folder, or already in the local Hugging Face cache."""
    model = settings.base_model
    folder = Path(model).expanduser()
    if folder.is_dir():
        if (folder / "model_index.json").is_file():
            return [_model_found(f"folder {folder}", folder)]
        return [
            Finding(
                "base model",
                False,
                f"{folder} has no model_index.json",
                "point HEADSHOTS_BASE_MODEL at a diffusers folder",
            )
        ]
    from huggingface_hub import try_to_load_from_cache

    index = try_to_load_from_cache(model, "model_index.json")
    if isinstance(index, str):
        return [_model_found(f"{model} is in the local Hugging Face cache", Path(index).parent)]
    return [
        Finding(
            "base model",
            False,
            f"{model} is neither a folder nor in the local cache",
            f"download it once (`hf download {model}`), or set HEADSHOTS_BASE_MODEL "
            "to a folder (`headshots tiny-model DIR` writes a tiny one for trials)",
        )
    ]


TINY_WIDTH = 256  # the widest tiny denoiser is far narrower; real SD's UNet starts at 320


def _model_found(where: str, folder: Path) -> Finding:
    width = _denoiser_width(folder)
    if width is None or width >= TINY_WIDTH:
        return Finding("base model", True, where)
    return Finding(
        "base model",
        False,
        f"{where} is a tiny random-weight model ({width} channels wide): its images are noise, "
        "fine for trying the system, not for headshots",
        "set HEADSHOTS_BASE_MODEL to a real model (README, the tiers)",
    )


def _denoiser_width(folder: Path) -> int | None:
    """Return the UNet's widest block, or the transformer's width, from its config."""
    unet, transformer = folder / "unet" / "config.json", folder / "transformer" / "config.json"
    if unet.is_file():
        return max(int(c) for c in json.loads(unet.read_text()).get("block_out_channels", [0]))
    if transformer.is_file():
        raw = json.loads(transformer.read_text())
        return int(raw.get("num_attention_heads", 0)) * int(raw.get("attention_head_dim", 0))
    return None


def redact_url(url: str) -> str:
    """Return the Redis URL's host part: never print a password from it."""
    return url.rsplit("@", maxsplit=1)[-1]
