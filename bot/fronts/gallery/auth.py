"""Who may open a gallery: Telegram's Mini App init data, and our own signed links and sessions.

Telegram signs the init data it hands a Mini App (core.telegram.org/bots/webapps, "Validating
data received via the Mini App"): secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token), and
hash = hex HMAC_SHA256(key=secret_key, msg=data_check_string), where the data-check-string is
every received field except `hash`, sorted by key, as "key=value" lines joined by "\\n".

Links (Discord, the console) and page sessions are ours: HMAC-SHA256 with the server secret over
what they admit (the person's scope, one pack, an expiry) and their purpose, so a session token
is never a link. Pure: the caller passes the clock and the secrets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl

LINK = "link"  # a signed link sent in chat; opens the page
SESSION = "session"  # what an opened page sends with every image and action
CLOCK_SKEW_S = 60  # init data dated this far ahead of our clock still counts as now


class GalleryAuthError(Exception):
    """The request proves nobody (forged, malformed or expired): answered 401."""


class ExpiredError(GalleryAuthError):
    """The proof was real but is too old now."""


@dataclass(frozen=True)
class TelegramViewer:
    """The Telegram user the init data names."""

    user_id: str
    language: str


@dataclass(frozen=True)
class Grant:
    """What a link or session admits: one person (by scope), one pack, until `expires_at`."""

    scope: str
    pack_id: str
    expires_at: int


def telegram_viewer(init_data: str, bot_token: str, now_s: float, max_age_s: int) -> TelegramViewer:
    """Return the user of Mini App init data signed for `bot_token`, or raise GalleryAuthError."""
    fields = _fields(init_data)
    given = fields.pop("hash", "")
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(expected, given.lower()):
        raise GalleryAuthError("init data not signed by this bot")
    auth_date = fields.get("auth_date", "")
    if not auth_date.isdigit() or int(auth_date) > now_s + CLOCK_SKEW_S:
        raise GalleryAuthError("init data without a valid auth_date")
    if now_s - int(auth_date) > max_age_s:
        raise ExpiredError("init data too old")
    return _user(fields.get("user", ""))


def issue(secret: bytes, purpose: str, grant: Grant) -> str:
    """Return a token proving `grant` for `purpose` (LINK or SESSION)."""
    body = json.dumps([grant.scope, grant.pack_id, grant.expires_at], separators=(",", ":"))
    payload = _b64(body.encode())
    return f"{payload}.{_b64(_sign(secret, purpose, payload))}"


def admit(secret: bytes, purpose: str, token: str, now_s: float) -> Grant:
    """Return the grant a token of `purpose` proves, or raise GalleryAuthError (ExpiredError)."""
    payload, _, signature = token.partition(".")
    expected = _b64(_sign(secret, purpose, payload))
    if not payload or not hmac.compare_digest(expected.encode(), signature.encode()):
        raise GalleryAuthError(f"{purpose} not signed by this server")
    try:
        scope, pack_id, expires_at = json.loads(_unb64(payload))
    except (ValueError, TypeError, binascii.Error) as exc:  # signed by us: never, but be total
        raise GalleryAuthError(f"{purpose} malformed") from exc
    grant = Grant(str(scope), str(pack_id), int(expires_at))
    if now_s >= grant.expires_at:
        raise ExpiredError(f"{purpose} expired")
    return grant


def _fields(init_data: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise GalleryAuthError("init data is not a query string") from exc
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise GalleryAuthError("init data repeats a field")
    return fields


def _user(raw: str) -> TelegramViewer:
    try:
        user = json.loads(raw)
        user_id = int(user["id"])
    except (ValueError, TypeError, KeyError) as exc:
        raise GalleryAuthError("init data names no user") from exc
    return TelegramViewer(str(user_id), str(user.get("language_code", "")))


def _sign(secret: bytes, purpose: str, payload: str) -> bytes:
    return hmac.new(secret, f"{purpose}.{payload}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
