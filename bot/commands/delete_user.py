"""`headshots delete-user PLATFORM:ID`: erase one person's data, as /delete does in the chat."""

from __future__ import annotations

import argparse
import asyncio

from core.errors import ConfigError
from core.settings import Settings, load_settings

NAME = "delete-user"
HELP = "erase everything of one person (e.g. telegram:123456), as /delete does"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take the person as PLATFORM:ID."""
    parser.add_argument("person", metavar="PLATFORM:ID", help="e.g. telegram:123456")


def run(args: argparse.Namespace) -> int:
    """Erase and print what was erased."""
    platform, _, user_id = str(args.person).partition(":")
    if not platform or not user_id:
        raise ConfigError(f"expected PLATFORM:ID such as telegram:123456, got {args.person!r}")
    print(asyncio.run(_erase(load_settings(), platform.lower(), user_id)))
    return 0


async def _erase(settings: Settings, platform: str, user_id: str) -> str:
    from bot.service.erase import erase_person
    from bot.service.pack_queue import ArqPackQueue
    from engine.jobs import create_arq_pool
    from engine.jobs.records import open_state
    from storage.blobs_open import open_blob_store
    from storage.keys import user_scope

    state = open_state(settings.redis_url)
    blobs = open_blob_store(settings)
    arq = await create_arq_pool(settings)
    try:
        scope = user_scope(platform, user_id)
        erased = await erase_person(scope, state, arq, blobs, ArqPackQueue(arq, state))
    finally:
        await arq.aclose()
        await blobs.close()
        await state.close()
    return (
        f"{platform}:{user_id}: erased {erased.blobs} blob(s), {erased.records} record(s), "
        f"{erased.jobs} job(s){'; stopped the running pack' if erased.stopped_job else ''}"
    )
