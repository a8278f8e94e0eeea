"""The gallery's HTTP routes: the page, its session, the pack, every image, presses and the ZIP.

The page is static; it proves who is looking once (Telegram's init data, or a signed link) and
gets a session token scoped to one person and one pack, which every later request carries:
images and actions are checked one by one, never only the page. Nobody else gets in: forged or
expired proof is 401, another person's pack 403, an erased one 410, each a plain page. Presses
run through the chat service exactly as the chat's buttons do.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.chat.contact_sheet import SHEET_VERBS, SheetPress
from bot.chat.events import ChatRef, Reply
from bot.chat.session import Session
from bot.fronts.gallery.auth import (
    LINK,
    SESSION,
    ExpiredError,
    GalleryAuthError,
    Grant,
    admit,
    issue,
    telegram_viewer,
)
from bot.fronts.gallery.pack import Access, PackReader
from bot.images.pool import ImagePool
from bot.service.chat_service import ChatService
from bot.text import gallery as say
from bot.text.i18n import pick_language, speaking, t
from engine.jobs.keys import session_key, thumb_key
from storage.blobs import BlobStore
from storage.keys import user_scope
from storage.state import StateStore

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {"gallery.js": "text/javascript", "gallery.css": "text/css"}
THUMB_SIDE_PX = 384  # a 3-column grid on a 390 px wide phone, at 3x pixel density
# Nothing but our own origin: no inline script or style, no other site, no plugins, no forms.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self' https://web.telegram.org"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",  # the session token rides in image addresses
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}
PRIVATE = {"Cache-Control": "private, no-store"}


@dataclass(frozen=True)
class GalleryKeys:
    """The secrets and lifetimes of the gallery's proofs."""

    secret: bytes
    telegram_token: str  # empty: no Telegram front, so no init data is accepted
    init_max_age_s: int
    session_ttl_s: int


@dataclass(frozen=True)
class Gallery:
    """What the routes use, created once at start; `services` answer presses per platform."""

    keys: GalleryKeys
    reader: PackReader
    state: StateStore
    blobs: BlobStore
    images: ImagePool
    services: Mapping[str, ChatService]
    language: str = ""  # the operator's forced language, as the chat's


class RefusedError(Exception):
    """A request that gets a plain page with `status` instead of what it asked for."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


_GALLERY = web.AppKey("gallery", Gallery)


def gallery_app(gallery: Gallery) -> web.Application:
    """Return the aiohttp application serving the gallery under /gallery/."""
    app = web.Application(middlewares=[_headers])
    app[_GALLERY] = gallery
    app.router.add_get("/gallery/", _page)
    app.router.add_get("/gallery/static/{name}", _asset)
    app.router.add_post("/gallery/api/session", _session)
    app.router.add_get("/gallery/api/pack", _pack)
    app.router.add_post("/gallery/api/press", _press)
    app.router.add_get("/gallery/img/{job_id}/{number:[0-9]+}", _image)
    app.router.add_get("/gallery/zip", _zip)
    return app


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except RefusedError as refused:
        response = web.Response(status=refused.status, text=refused.text, headers=PRIVATE)
    response.headers.update(SECURITY_HEADERS)
    return response


# ----- the page --------------------------------------------------------------------------------


async def _page(request: web.Request) -> web.Response:
    link = request.query.get("link")
    if link is not None:  # refused here already, so a bad link never even shows the page
        gallery = request.app[_GALLERY]
        await _open(gallery, _admit(gallery, LINK, link, request), request)
    html = (STATIC / "gallery.html").read_text()
    return web.Response(text=html, content_type="text/html", headers=PRIVATE)


async def _asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound
    return web.Response(body=(STATIC / name).read_bytes(), content_type=ASSETS[name])


async def _session(request: web.Request) -> web.Response:
    """Trade the page's proof (init data, or a link) for a session token of one pack."""
    gallery = request.app[_GALLERY]
    body = await _json(request)
    if "link" in body:
        grant = _admit(gallery, LINK, str(body["link"]), request)
    else:
        grant = _telegram_grant(gallery, body, request)
    await _open(gallery, grant, request)
    expires_at = int(time.time()) + gallery.keys.session_ttl_s
    session = Grant(grant.scope, grant.pack_id, min(expires_at, grant.expires_at))
    token = issue(gallery.keys.secret, SESSION, session)
    with speaking(pick_language(await _language(gallery, grant.scope), gallery.language)):
        texts = say.page_texts()
    return web.json_response({"session": token, "texts": texts}, headers=PRIVATE)


def _telegram_grant(gallery: Gallery, body: Mapping[str, object], request: web.Request) -> Grant:
    keys = gallery.keys
    if not keys.telegram_token:
        raise RefusedError(401, _plain(say.UNAUTHORIZED, request))
    try:
        viewer = telegram_viewer(
            str(body.get("init_data", "")), keys.telegram_token, time.time(), keys.init_max_age_s
        )
    except GalleryAuthError as exc:
        raise _refusal(exc, request) from None
    scope = user_scope("telegram", viewer.user_id)
    return Grant(scope, str(body.get("pack", "")), int(time.time()) + keys.session_ttl_s)


# ----- what a session may fetch and do ---------------------------------------------------------


async def _pack(request: web.Request) -> web.Response:
    gallery, grant = await _checked(request)
    with speaking(pick_language(await _language(gallery, grant.scope), gallery.language)):
        page = await gallery.reader.page(grant.scope, grant.pack_id)
    return web.json_response(asdict(page), headers=PRIVATE)


async def _image(request: web.Request) -> web.Response:
    gallery, grant = await _checked(request)
    job_id, number = request.match_info["job_id"], int(request.match_info["number"])
    key = await gallery.reader.image_key(grant.scope, grant.pack_id, job_id, number)
    if key is None or not await gallery.blobs.exists(key):
        raise RefusedError(404 if key is None else 410, _plain(say.GONE, request))
    if request.query.get("full") == "1":
        return web.Response(body=await gallery.blobs.get(key), content_type="image/png",
                            headers=PRIVATE)  # fmt: skip
    return web.Response(body=await _thumbnail(gallery, grant.scope, job_id, number, key),
                        content_type="image/jpeg", headers=PRIVATE)  # fmt: skip


async def _thumbnail(gallery: Gallery, scope: str, job_id: str, number: int, key: str) -> bytes:
    """Return the image's thumbnail, made once and kept beside it (erased with the job)."""
    small_key = thumb_key(scope, job_id, number)
    if await gallery.blobs.exists(small_key):
        return await gallery.blobs.get(small_key)
    small = await gallery.images.thumbnail(await gallery.blobs.get(key), THUMB_SIDE_PX)
    await gallery.blobs.put(small_key, small)
    return small


async def _press(request: web.Request) -> web.Response:
    """Press a contact-sheet button of the pack, through the chat's own code path."""
    gallery, grant = await _checked(request)
    data = str((await _json(request)).get("data", ""))
    verb, _, value = data.partition(":")
    job_id = SheetPress(verb, value).job_id
    if verb not in SHEET_VERBS - {"zip"} or not value:
        raise web.HTTPBadRequest(text="unknown press")
    await _open(gallery, grant, request, job_id)  # a job of this pack, not only any of theirs
    chat, service = await _chat(gallery, grant, request)
    effects = await service.press(chat, data)
    said = [effect.text for effect in effects if isinstance(effect, Reply)]
    return web.json_response({"said": said}, headers=PRIVATE)


async def _zip(request: web.Request) -> web.Response:
    """Return Done's ZIP (the kept images, else the pack's, and the profile kit) as a download."""
    gallery, grant = await _checked(request)
    chat, service = await _chat(gallery, grant, request)
    files = await service.zip_files(chat, grant.pack_id)
    if files is None:
        raise RefusedError(410, _plain(say.GONE, request))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # images are compressed
        for name, data in files:
            archive.writestr(name, data)
    headers = {**PRIVATE, "Content-Disposition": 'attachment; filename="headshots.zip"'}
    return web.Response(body=buffer.getvalue(), content_type="application/zip", headers=headers)


# ----- checks ----------------------------------------------------------------------------------


async def _checked(request: web.Request) -> tuple[Gallery, Grant]:
    """Return the session's grant, still open: 401 without one, 403 or 410 when not theirs."""
    gallery = request.app[_GALLERY]
    token = request.headers.get("X-Gallery-Session") or request.query.get("s", "")
    grant = _admit(gallery, SESSION, token, request)
    await _open(gallery, grant, request)
    return gallery, grant


def _admit(gallery: Gallery, purpose: str, token: str, request: web.Request) -> Grant:
    try:
        return admit(gallery.keys.secret, purpose, token, time.time())
    except GalleryAuthError as exc:
        raise _refusal(exc, request) from None


async def _open(gallery: Gallery, grant: Grant, request: web.Request, job_id: str = "") -> None:
    access = await gallery.reader.access(grant.scope, grant.pack_id, job_id)
    if access is Access.GONE:
        raise RefusedError(410, _plain(say.GONE, request))
    if access is Access.FOREIGN:
        raise RefusedError(403, _plain(say.FORBIDDEN, request))


async def _chat(
    gallery: Gallery, grant: Grant, request: web.Request
) -> tuple[ChatRef, ChatService]:
    chat = await gallery.reader.chat_of(grant.pack_id)
    service = None if chat is None else gallery.services.get(chat.platform)
    if chat is None or service is None:
        raise RefusedError(410, _plain(say.GONE, request))
    return chat, service


def _refusal(exc: GalleryAuthError, request: web.Request) -> RefusedError:
    text = say.EXPIRED if isinstance(exc, ExpiredError) else say.UNAUTHORIZED
    return RefusedError(401, _plain(text, request))


def _plain(text: str, request: web.Request) -> str:
    """Return a refusal in the browser's language (nobody proved who they are yet)."""
    header = request.headers.get("Accept-Language", "")
    with speaking(pick_language(header.split(",")[0].split(";")[0].strip())):
        return t(text)


async def _json(request: web.Request) -> dict[str, object]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="not a JSON object")
    return body


async def _language(gallery: Gallery, scope: str) -> str:
    raw = await gallery.state.get(session_key(scope))
    if raw is None:
        return ""
    session = Session.from_dict(raw)
    return session.chosen_language or session.language  # as the chat answers them
