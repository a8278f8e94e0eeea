"""A small fake Discord REST + gateway server (aiohttp on 127.0.0.1) for the real discord.py client.

It speaks just enough for our bot: login (users/@me, oauth2/applications/@me), command sync, the
gateway handshake (HELLO, IDENTIFY -> READY, heartbeats), channel messages with files and buttons
(create and edit), DM channel creation, attachment downloads, and interaction callbacks and
webhook follow-ups. It enforces the 3-second answer deadline (a late first answer gets Discord's
"Unknown interaction") and the interaction-token lifetime (a later webhook call gets "Invalid
Webhook Token"). Tests drive it as a person would: DM text and attachments, slash commands, presses.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.discord_payloads import (
    APP_ID,
    app_info,
    dm_channel,
    in_guild,
    interaction_payload,
    json_response,
    message_payload,
    read_body,
    user,
)

TOKEN = "discord-test-token"
BOT_USER = {"id": "4242", "username": "headshots", "discriminator": "0", "global_name": None,
            "avatar": None, "bot": True}  # fmt: skip
DEADLINE_S = 3.0


@dataclass
class Sent:
    """A message the bot created or edited in a channel."""

    method: str  # "create" or "edit"
    channel_id: int
    message_id: int
    text: str = ""
    buttons: list[list[dict[str, str]]] = field(default_factory=list)
    files: list[int] = field(default_factory=list)  # sizes in bytes
    names: list[str] = field(default_factory=list)  # file names
    data: list[bytes] = field(default_factory=list)  # the files' bytes
    at: float = field(default_factory=time.monotonic)  # when the fake received it

    @property
    def photos(self) -> int:
        """Return how many files came with it."""
        return len(self.files)


@dataclass
class Interaction:
    """An interaction the fake delivered, and when (monotonic) it was first answered."""

    id: int
    token: str
    delivered_at: float | None = None
    answered_at: float | None = None
    late: bool = False


class FakeDiscord:
    """State of the fake server; `api_base` and `gateway_url` are what the bot is pointed at."""

    def __init__(self, token_lifetime_s: float = 900.0) -> None:
        self.token_lifetime_s = token_lifetime_s
        self.sent: list[Sent] = []
        self.interactions: dict[str, Interaction] = {}
        self.synced: list[str] = []  # the command-sync paths: global, or a guild's
        self.synced_commands: list[list[dict[str, Any]]] = []  # each sync's command payloads
        self.locales: dict[int, str] = {}  # a person's Discord language; "en-US" when unset
        self.expired_token_calls = 0
        self.webhook_calls: list[tuple[str, str, dict[str, Any]]] = []  # (method, token, body)
        self.closed_dms: set[int] = set()  # channels whose person refuses DMs from the bot
        self.fail_with_429: Counter[str] = Counter()  # "create" or "edit": how many to refuse
        self.identified = 0
        self.message_delay_s = 0.0  # a slow channel: every message create waits this long
        self.attachments: dict[str, bytes] = {}
        self._ids = itertools.count(10_000)
        self._pending: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free 127.0.0.1 port."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/cdn/{id}/{name}", self._cdn)
        app.router.add_route("*", "/api/v10/{path:.+}", self._api)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Close every gateway socket and stop listening."""
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        """Return the value for HEADSHOTS_DISCORD_API_BASE."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Return the value for HEADSHOTS_DISCORD_GATEWAY_URL."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ----- what a person does -------------------------------------------------------------

    def send_text(self, user_id: int, text: str) -> None:
        """The person writes `text` in their DM with the bot."""
        self._push("MESSAGE_CREATE", self._message(user_id, content=text))

    def send_files(self, user_id: int, files: list[tuple[str, str, bytes]]) -> int:
        """The person sends one DM with attachments (name, content type, bytes); return its id."""
        attachments = []
        for name, content_type, data in files:
            attachment_id = str(next(self._ids))
            self.attachments[attachment_id] = data
            url = f"http://127.0.0.1:{self.port}/cdn/{attachment_id}/{name}"
            attachment = {"id": attachment_id, "filename": name, "size": len(data), "url": url}
            attachments.append({**attachment, "proxy_url": url, "content_type": content_type})
        message = self._message(user_id, attachments=attachments)
        self._push("MESSAGE_CREATE", message)
        return int(message["id"])

    def slash(self, user_id: int, sub: str, guild_id: int | None = None, **options: str) -> str:
        """The person runs `/headshots <sub> [option:value]` in their DM (or a server)."""
        given = [{"name": name, "type": 3, "value": value} for name, value in options.items()]
        data = {"id": "900", "name": "headshots", "type": 1,
                "options": [{"name": sub, "type": 1, "options": given}]}  # fmt: skip
        return self._interaction(user_id, 2, data, guild_id=guild_id)

    def press(self, user_id: int, data: str) -> str:
        """The person presses the newest button carrying our `data`; return the interaction id."""
        custom_id = f"hs:{data}"
        for sent in reversed(self.sent):
            if any(b["custom_id"] == custom_id for row in sent.buttons for b in row):
                message = self._bot_message(sent)
                payload = {"custom_id": custom_id, "component_type": 2}
                return self._interaction(user_id, 3, payload, message=message)
        raise AssertionError(f"no button {data!r} was shown; sent: {self.texts()}")

    # ----- what tests look at -------------------------------------------------------------

    def texts(self) -> list[str]:
        """Return the texts of every message created or edited, in order."""
        return [s.text for s in self.sent]

    async def wait_for(self, predicate: Any, timeout_s: float = 30.0, since: int = 0) -> Sent:
        """Wait until a message created or edited after the first `since` satisfies `predicate`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for sent in self.sent[since:]:
                if predicate(sent):
                    return sent
            await asyncio.sleep(0.02)
        raise AssertionError(f"nothing matched in time; sent: {self.texts()}")

    # ----- the gateway --------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        try:
            async for frame in socket:
                if frame.type != WSMsgType.TEXT:
                    break
                payload = json.loads(frame.data)
                if payload["op"] == 1:
                    await socket.send_str(json.dumps({"op": 11}))
                elif payload["op"] == 2:
                    await self._ready(socket, payload["d"])
                elif payload["op"] == 6:  # no resuming here: start afresh
                    await socket.send_str(json.dumps({"op": 9, "d": False}))
        finally:
            self._sockets.remove(socket)
        return socket

    async def _ready(self, socket: web.WebSocketResponse, identify: dict[str, Any]) -> None:
        if identify.get("token") != TOKEN:
            await socket.close(code=4004)
            return
        ready = {"v": 10, "user": BOT_USER, "guilds": [], "private_channels": [],
                 "session_id": f"s{next(self._ids)}", "resume_gateway_url": self.gateway_url,
                 "application": {"id": str(APP_ID), "flags": 0}}  # fmt: skip
        await self._dispatch(socket, "READY", ready)
        self.identified += 1
        pending, self._pending = self._pending, []
        for event, data in ((e["t"], e["d"]) for e in pending):
            await self._deliver(socket, event, data)

    def _push(self, event: str, data: dict[str, Any]) -> None:
        # Events wait for a connected bot: tests act while the bot restarts.
        live = [s for s in self._sockets if not s.closed]
        if live and self.identified:
            asyncio.get_running_loop().create_task(self._deliver(live[-1], event, data))
        else:
            self._pending.append({"t": event, "d": data})

    async def _deliver(
        self, socket: web.WebSocketResponse, event: str, data: dict[str, Any]
    ) -> None:
        if event == "INTERACTION_CREATE":
            self.interactions[data["id"]].delivered_at = time.monotonic()
        await self._dispatch(socket, event, data)

    async def _dispatch(self, socket: web.WebSocketResponse, event: str, data: Any) -> None:
        await socket.send_str(json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data}))

    # ----- REST ---------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") not in (f"Bot {TOKEN}", None):
            return json_response({"message": "401: Unauthorized", "code": 0}, 401)
        path, method = request.match_info["path"], request.method
        parts = path.split("/")
        if path == "users/@me":
            return json_response(BOT_USER)
        if path == "oauth2/applications/@me":
            return json_response(app_info())
        if parts[0] == "applications" and method == "PUT":
            commands = await request.json()
            self.synced.append(path)
            self.synced_commands.append(commands)
            return json_response([{**c, "id": str(next(self._ids)), "application_id": str(APP_ID),
                           "version": "1"} for c in commands])  # fmt: skip
        if path == "users/@me/channels":
            user_id = int((await request.json())["recipient_id"])
            return json_response(
                {"id": str(dm_channel(user_id)), "type": 1, "recipients": [user(user_id)]}
            )
        if parts[0] == "channels" and parts[2:3] == ["messages"]:
            return await self._messages(
                request, int(parts[1]), parts[3] if len(parts) > 3 else None
            )
        if parts[0] == "interactions":
            return self._callback(parts[1], parts[2])
        if parts[0] == "webhooks":
            body = await request.json() if request.content_type == "application/json" else {}
            self.webhook_calls.append((method, parts[2], body))
            return self._webhook(parts[2], method)
        return json_response({"message": f"404: Not Found {method} {path}", "code": 0}, 404)

    async def _cdn(self, request: web.Request) -> web.Response:
        data = self.attachments.get(request.match_info["id"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _messages(
        self, request: web.Request, channel_id: int, message_id: str | None
    ) -> web.Response:
        payload, files = await read_body(request)
        if channel_id in self.closed_dms:
            return json_response(
                {"message": "Cannot send messages to this user", "code": 50007}, 403
            )
        kind = "create" if message_id is None else "edit"
        if self.fail_with_429[kind] > 0:
            self.fail_with_429[kind] -= 1
            body = {"message": "You are being rate limited.", "retry_after": 0.3, "global": False}
            return json_response(body, 429, {"Via": "1.1 google", "X-RateLimit-Scope": "user"})
        if message_id is None:
            await asyncio.sleep(self.message_delay_s)
            sent = Sent("create", channel_id, next(self._ids))
        else:
            if not any(s.message_id == int(message_id) for s in self.sent):
                return json_response({"message": "Unknown Message", "code": 10008}, 404)
            sent = Sent("edit", channel_id, int(message_id))
        if len(files) > 10:
            return json_response({"message": "Too many attachments", "code": 50035}, 400)
        sent.text = payload.get("content") or ""
        rows = payload.get("components") or []
        sent.buttons = [[{"label": b["label"], "custom_id": b["custom_id"]}
                         for b in row["components"]] for row in rows]  # fmt: skip
        sent.files = [len(data) for _, data in files]
        sent.names = [name for name, _ in files]
        sent.data = [data for _, data in files]
        if sent.method == "edit" and message_id is not None:
            previous = [s for s in self.sent if s.message_id == sent.message_id][-1]
            sent.text = sent.text or (previous.text if "content" not in payload else "")
        self.sent.append(sent)
        return json_response(self._bot_message(sent))

    def _callback(self, interaction_id: str, token: str) -> web.Response:
        record = self.interactions.get(interaction_id)
        if record is None or record.token != token or record.delivered_at is None:
            return json_response({"message": "Unknown interaction", "code": 10062}, 404)
        if record.answered_at is not None:
            return json_response({"message": "Interaction has already been acknowledged.",
                          "code": 40060}, 400)  # fmt: skip
        if time.monotonic() - record.delivered_at > DEADLINE_S:
            record.late = True
            return json_response({"message": "Unknown interaction", "code": 10062}, 404)
        record.answered_at = time.monotonic()
        return json_response({"interaction": {"id": interaction_id, "type": 2}})

    def _webhook(self, token: str, method: str) -> web.Response:
        record = next((r for r in self.interactions.values() if r.token == token), None)
        if record is None or record.delivered_at is None:
            return json_response({"message": "Unknown Webhook", "code": 10015}, 404)
        if time.monotonic() - record.delivered_at > self.token_lifetime_s:
            self.expired_token_calls += 1
            return json_response({"message": "Invalid Webhook Token", "code": 50027}, 401)
        if method == "DELETE":
            return web.Response(status=204)
        return json_response(self._bot_message(Sent("followup", 0, next(self._ids))))

    # ----- payloads -----------------------------------------------------------------------

    def _interaction(
        self, user_id: int, kind: int, data: dict[str, Any], message: dict[str, Any] | None = None,
        guild_id: int | None = None,
    ) -> str:  # fmt: skip
        interaction_id, token = str(next(self._ids)), f"itoken{next(self._ids)}"
        self.interactions[interaction_id] = Interaction(int(interaction_id), token)
        payload = interaction_payload(interaction_id, token, kind, data, user_id)
        payload["locale"] = self.locales.get(user_id, "en-US")
        if guild_id is not None:  # a server's text channel: a member, not a user
            payload.update(in_guild(guild_id, payload.pop("user")))
        if message is not None:
            payload["message"] = message
        self._push("INTERACTION_CREATE", payload)
        return interaction_id

    def _message(self, user_id: int, **content: Any) -> dict[str, Any]:
        return message_payload(next(self._ids), dm_channel(user_id), user(user_id), **content)

    def _bot_message(self, sent: Sent) -> dict[str, Any]:
        rows = [{"type": 1, "components": [{"type": 2, "style": 2, **b} for b in row]}
                for row in sent.buttons]  # fmt: skip
        return message_payload(sent.message_id, sent.channel_id, BOT_USER, content=sent.text,
                                components=rows)  # fmt: skip
