"""A small fake Telegram Bot API server (aiohttp on 127.0.0.1) for the real PTB client.

It speaks just enough of the Bot API for our bot: getMe, getUpdates (long poll), getFile and
file downloads, sendMessage, editMessageText, sendPhoto, sendDocument, sendMediaGroup (with its
2-10 rule), answerCallbackQuery, deleteWebhook, setMyCommands; and it can inject 429s.
Tests drive it as a person would: send text, commands, photos, albums, stickers, press buttons.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-TOKEN"
UPLOAD_NAMES = "__upload_names__"  # not a Bot API field: where _params keeps uploads' file names
BOT_USER = {"id": 1, "is_bot": True, "first_name": "Headshots", "username": "headshots_bot"}


@dataclass
class Sent:
    """A message the bot sent or edited."""

    method: str
    chat_id: int
    message_id: int
    text: str = ""
    buttons: list[list[dict[str, str]]] = field(default_factory=list)
    photos: int = 0
    documents: int = 0
    files: dict[str, bytes] = field(default_factory=dict)  # a sendDocument's upload, by file name
    at: float = field(default_factory=time.monotonic)  # when the fake received it


class FakeTelegram:
    """State of the fake server; `url` is the base to give PTB."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.sent: list[Sent] = []
        self.files: dict[str, bytes] = {}
        self.fail_with_429: Counter[str] = Counter()
        # Calls carried out (the message is sent) whose answer the client cannot read, as a
        # proxy that mangles replies or an API field the client does not know would make.
        self.unreadable: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.language_codes: dict[int, str] = {}  # a user's app language, sent as Telegram does
        # The command menus the bot set, by language code ("" for everyone else's).
        self.command_menus: dict[str, list[dict[str, str]]] = {}
        self._ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free 127.0.0.1 port."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """Return the value for HEADSHOTS_TELEGRAM_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Return the value for HEADSHOTS_TELEGRAM_BASE_FILE_URL."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ----- what a person does -------------------------------------------------------------

    def send_text(self, user_id: int, text: str) -> None:
        """The person types `text` (a leading slash makes it a command)."""
        message = self._message(user_id, text=text)
        if text.startswith("/"):
            length = len(text.split(" ", 1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self._push({"message": message})

    def send_photo(self, user_id: int, data: bytes, group_id: str | None = None) -> str:
        """The person sends a compressed photo; return its file id."""
        file_id = self._store(data)
        sizes = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 512,
                  "height": 512, "file_size": len(data)}]  # fmt: skip
        message = self._message(user_id, photo=sizes)
        if group_id:
            message["media_group_id"] = group_id
        self._push({"message": message})
        return file_id

    def send_document(
        self, user_id: int, data: bytes, mime: str, name: str, size: int | None = None
    ) -> None:
        """The person sends a file; `size` lets a test claim a size without the bytes."""
        file_id = self._store(data)
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": name,
            "mime_type": mime,
            "file_size": size if size is not None else len(data),
        }
        self._push({"message": self._message(user_id, document=document)})

    def send_sticker(self, user_id: int) -> None:
        """The person sends a sticker."""
        sticker = {"file_id": "stk", "file_unique_id": "ustk", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False, "type": "regular"}  # fmt: skip
        self._push({"message": self._message(user_id, sticker=sticker)})

    def press(self, user_id: int, data: str) -> None:
        """The person presses the newest button carrying `data`."""
        for sent in reversed(self.sent):
            if any(button["callback_data"] == data for row in sent.buttons for button in row):
                self.forge_press(user_id, data, sent.message_id)
                return
        raise AssertionError(f"no button {data!r} was shown; sent: {self.texts(user_id)}")

    def forge_press(self, user_id: int, data: str, message_id: int = 1) -> None:
        """Send a button press with any callback data, as a modified client could."""
        message = {"message_id": message_id, "date": int(time.time()), "chat": _chat(user_id),
                   "from": BOT_USER, "text": ""}  # fmt: skip
        query = {"id": str(next(self._ids)), "from": self._user(user_id), "message": message,
                 "chat_instance": "ci", "data": data}  # fmt: skip
        self._push({"callback_query": query})

    # ----- what tests look at -------------------------------------------------------------

    def texts(self, chat_id: int) -> list[str]:
        """Return the texts of messages sent to (or edited in) `chat_id`, in order."""
        return [s.text for s in self.sent if s.chat_id == chat_id]

    async def wait_for(self, predicate: Any, timeout_s: float = 30.0, since: int = 0) -> Sent:
        """Wait until a message sent after the first `since` ones satisfies `predicate`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for sent in self.sent[since:]:
                if predicate(sent):
                    return sent
            await asyncio.sleep(0.02)
        raise AssertionError(f"nothing matched in time; sent: {[s.text for s in self.sent]}")

    # ----- the API ------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != TOKEN:
            return _error(401, "Unauthorized")
        self.calls[method] += 1
        if self.fail_with_429[method] > 0:
            self.fail_with_429[method] -= 1
            return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        params = await _params(request)
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _error(404, f"Not Found: method {method}")
        result = await handler(params)
        if self.unreadable[method] > 0 and not isinstance(result, web.Response):
            self.unreadable[method] -= 1
            return _ok({"surprise": "a reply the client cannot read"})
        return result if isinstance(result, web.Response) else _ok(result)

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    async def _m_getme(self, _params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_deletewebhook(self, _params: dict[str, Any]) -> Any:
        return True

    async def _m_setmycommands(self, params: dict[str, Any]) -> Any:
        self.command_menus[str(params.get("language_code") or "")] = list(params["commands"])
        return True

    async def _m_answercallbackquery(self, _params: dict[str, Any]) -> Any:
        return True

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset", 0) or 0)
        timeout = min(float(params.get("timeout", 0) or 0), 1.0)
        pending = [u for u in self.updates if u["update_id"] >= offset]
        if not pending and timeout > 0:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except TimeoutError:
                return []
            pending = [u for u in self.updates if u["update_id"] >= offset]
        return pending[:100]

    async def _m_getfile(self, params: dict[str, Any]) -> Any:
        file_id = params["file_id"]
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": f"photos/{file_id}",
        }

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        return self._record("sendMessage", params, text=params["text"])

    async def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        previous = [s for s in self.sent if s.chat_id == chat_id and s.message_id == message_id]
        if not previous:
            return _error(400, "Bad Request: message to edit not found")
        if previous[-1].text == params["text"] and previous[-1].buttons == _buttons(params):
            return _error(400, "Bad Request: message is not modified")
        return self._record("editMessageText", params, text=params["text"], message_id=message_id)

    async def _m_sendphoto(self, params: dict[str, Any]) -> Any:
        return self._record("sendPhoto", params, text=params.get("caption", ""), photos=1)

    async def _m_senddocument(self, params: dict[str, Any]) -> Any:
        sent = self._record("sendDocument", params, text=params.get("caption", ""), documents=1)
        name = params.get(UPLOAD_NAMES, {}).get("document", "document")
        self.sent[-1].files[name] = params["document"]
        return sent

    async def _m_sendmediagroup(self, params: dict[str, Any]) -> Any:
        media = params["media"]
        if not 2 <= len(media) <= 10:
            return _error(400, "Bad Request: media group must include 2-10 items")
        missing = [m["media"] for m in media if m["media"].removeprefix("attach://") not in params]
        if missing:
            return _error(400, f"Bad Request: missing uploads {missing}")
        caption = media[0].get("caption", "")
        documents = sum(1 for m in media if m.get("type") == "document")
        first = self._record(
            "sendMediaGroup", params, text=caption, photos=len(media) - documents,
            documents=documents,
        )  # fmt: skip
        uploads = params.get(UPLOAD_NAMES, {})
        for item in media:  # the documents' files, by the names the person sees
            attached = item["media"].removeprefix("attach://")
            if item.get("type") == "document" and attached in uploads:
                self.sent[-1].files[uploads[attached]] = params[attached]
        return [first]

    # ----- helpers ------------------------------------------------------------------------

    def _record(
        self, method: str, params: dict[str, Any], text: str, *, photos: int = 0,
        message_id: int | None = None, documents: int = 0,
    ) -> dict[str, Any]:  # fmt: skip
        chat_id = int(params["chat_id"])
        message_id = message_id or next(self._ids)
        sent = Sent(method, chat_id, message_id, text, _buttons(params), photos, documents)
        self.sent.append(sent)
        return {"message_id": sent.message_id, "date": int(time.time()), "chat": _chat(chat_id),
                "from": BOT_USER, "text": text}  # fmt: skip

    def _store(self, data: bytes) -> str:
        file_id = f"file{next(self._ids)}"
        self.files[file_id] = data
        return file_id

    def _user(self, user_id: int) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Pat"}
        if user_id in self.language_codes:
            user["language_code"] = self.language_codes[user_id]
        return user

    def _message(self, user_id: int, **content: Any) -> dict[str, Any]:
        return {"message_id": next(self._ids), "date": int(time.time()), "chat": _chat(user_id),
                "from": self._user(user_id), **content}  # fmt: skip

    def _push(self, update: dict[str, Any]) -> None:
        self.updates.append({"update_id": next(self._update_ids), **update})
        self._new_update.set()


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = _decode(value)
            elif isinstance(value, bytes | bytearray):
                params[key] = bytes(value)
            else:
                params[key] = value.file.read()  # an uploaded file
                params.setdefault(UPLOAD_NAMES, {})[key] = value.filename
    return params


def _decode(value: str) -> Any:
    # PTB JSON-encodes every non-string field (markup, media lists, numbers).
    try:
        return json.loads(value)
    except ValueError:
        return value


def _buttons(params: dict[str, Any]) -> list[list[dict[str, str]]]:
    markup = params.get("reply_markup") or {}
    return list(markup.get("inline_keyboard", []))


def _chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": "Pat"}


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
