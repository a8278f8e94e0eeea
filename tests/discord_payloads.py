"""Payload builders and HTTP helpers of the fake Discord server (tests/fake_discord.py)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

APP_ID = 4242
GUILD_CHANNEL = 6000


def in_guild(guild_id: int, user: dict[str, Any]) -> dict[str, Any]:
    """Return the fields that move an interaction into a server's text channel."""
    channel = {"id": str(GUILD_CHANNEL), "type": 0, "guild_id": str(guild_id), "name": "general",
               "position": 0, "permission_overwrites": [], "nsfw": False}  # fmt: skip
    member = {"user": user, "roles": [], "deaf": False, "mute": False, "flags": 0,
              "joined_at": "2026-01-01T00:00:00+00:00", "permissions": "0"}  # fmt: skip
    return {"guild_id": str(guild_id), "channel_id": str(GUILD_CHANNEL), "channel": channel,
            "member": member, "context": 0, "guild_locale": "en-US"}  # fmt: skip


def interaction_payload(
    interaction_id: str, token: str, kind: int, data: dict[str, Any], user_id: int
) -> dict[str, Any]:
    """Return an INTERACTION_CREATE payload from the person's DM with the bot."""
    channel = dm_channel(user_id)
    return {
        "id": interaction_id, "application_id": str(APP_ID), "type": kind, "data": data,
        "channel_id": str(channel), "channel": {"id": str(channel), "type": 1},
        "user": user(user_id), "token": token, "version": 1, "locale": "en-US",
        "app_permissions": "0", "entitlements": [], "authorizing_integration_owners": {},
        "context": 1, "attachment_size_limit": 10 * 1024 * 1024,
    }  # fmt: skip


def dm_channel(user_id: int) -> int:
    """Return the id of the person's DM channel with the bot."""
    return 50_000_000 + user_id


async def read_body(request: web.Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """Return a request's JSON payload and its uploaded files (name, bytes)."""
    if not request.can_read_body:
        return {}, []
    if request.content_type == "application/json":
        return dict(await request.json()), []
    payload: dict[str, Any] = {}
    files: list[tuple[str, bytes]] = []
    reader = await request.multipart()
    async for part in reader:
        if part.name == "payload_json":  # type: ignore[union-attr]
            payload = json.loads(await part.text())  # type: ignore[union-attr]
        else:
            files.append((part.filename or "", bytes(await part.read())))  # type: ignore[union-attr]
    return payload, files


def message_payload(
    message_id: int, channel_id: int, author: dict[str, Any], **content: Any
) -> dict[str, Any]:
    """Return a message object; `content` overrides or adds fields."""
    return {"id": str(message_id), "channel_id": str(channel_id), "author": author,
            "content": "", "timestamp": "2026-01-01T00:00:00+00:00", "edited_timestamp": None,
            "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [], "embeds": [], "pinned": False, "type": 0, "flags": 0,
            **content}  # fmt: skip


def user(user_id: int) -> dict[str, Any]:
    """Return a person's user object."""
    return {"id": str(user_id), "username": "pat", "discriminator": "0", "global_name": "Pat",
            "avatar": None}  # fmt: skip


def app_info() -> dict[str, Any]:
    """Return the bot's application object."""
    return {"id": str(APP_ID), "name": "Headshots", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "owner": user(1),
            "verify_key": "k", "flags": 0, "rpc_origins": [], "team": None}  # fmt: skip


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Return a JSON response as Discord sends it."""
    # discord.py parses JSON only when Content-Type is exactly application/json (no charset), and
    # takes a 429 for Discord's own (not a Cloudflare ban) only with a Via header.
    headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(body).encode(), status=status, headers=headers)
