"""Who may open a gallery: Telegram init data checked as Telegram specifies; our signed tokens."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import quote, urlencode

import pytest

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

BOT_TOKEN = "123456:TEST-token-of-the-bot"
NOW = 1_765_000_000
SECRET = b"s" * 32


def signed_init_data(fields: dict[str, str], bot_token: str = BOT_TOKEN) -> str:
    """Sign `fields` as a Telegram client hands them to a Mini App (the spec, step by step)."""
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret_key = hmac.new(key=b"WebAppData", msg=bot_token.encode(), digestmod=hashlib.sha256)
    digest = hmac.new(secret_key.digest(), check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest}, quote_via=quote)


def _fields(auth_date: int = NOW - 5, user_id: int = 4242) -> dict[str, str]:
    user = {"id": user_id, "first_name": "Ada", "language_code": "es", "allows_write_to_pm": True}
    return {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(auth_date),
        "signature": "c2lnbmF0dXJl",  # Bot API 8's Ed25519 field: part of the checked string
    }


def test_init_data_signed_for_the_bot_names_its_user() -> None:
    viewer = telegram_viewer(signed_init_data(_fields()), BOT_TOKEN, NOW, max_age_s=3600)
    assert (viewer.user_id, viewer.language) == ("4242", "es")


@pytest.mark.parametrize(
    "forge",
    [
        lambda d: d.replace("4242", "4243"),  # another user id, same hash
        lambda d: d.replace("hash=", "hash=0"),  # a damaged hash
        lambda d: d.split("&hash=")[0],  # no hash at all
        lambda d: d + "&auth_date=1",  # a repeated field
        lambda d: "%%%&&&",  # not a query string
    ],
)
def test_tampered_init_data_is_refused(forge: object) -> None:
    data = forge(signed_init_data(_fields()))  # type: ignore[operator]
    with pytest.raises(GalleryAuthError):
        telegram_viewer(data, BOT_TOKEN, NOW, max_age_s=3600)


def test_init_data_of_another_bot_is_refused() -> None:
    data = signed_init_data(_fields(), bot_token="999:another-bot")
    with pytest.raises(GalleryAuthError):
        telegram_viewer(data, BOT_TOKEN, NOW, max_age_s=3600)


def test_old_init_data_is_expired_and_data_from_the_future_is_refused() -> None:
    old = signed_init_data(_fields(auth_date=NOW - 3601))
    with pytest.raises(ExpiredError):
        telegram_viewer(old, BOT_TOKEN, NOW, max_age_s=3600)
    assert telegram_viewer(old, BOT_TOKEN, NOW, max_age_s=7200).user_id == "4242"
    ahead = signed_init_data(_fields(auth_date=NOW + 3600))
    with pytest.raises(GalleryAuthError):
        telegram_viewer(ahead, BOT_TOKEN, NOW, max_age_s=3600)


def test_signed_init_data_without_a_user_is_refused() -> None:
    fields = {k: v for k, v in _fields().items() if k != "user"}
    with pytest.raises(GalleryAuthError):
        telegram_viewer(signed_init_data(fields), BOT_TOKEN, NOW, max_age_s=3600)


def test_a_link_admits_its_person_and_pack_until_it_expires() -> None:
    grant = Grant("discord-0123abcd", "pack-" + "a" * 24, NOW + 60)
    token = issue(SECRET, LINK, grant)
    assert admit(SECRET, LINK, token, NOW) == grant
    with pytest.raises(ExpiredError):
        admit(SECRET, LINK, token, NOW + 60)  # replayed once it expired


def test_a_changed_link_another_secret_or_another_purpose_is_refused() -> None:
    token = issue(SECRET, LINK, Grant("discord-0123abcd", "pack-a", NOW + 60))
    payload, _, signature = token.partition(".")
    other = issue(SECRET, LINK, Grant("discord-ffff0000", "pack-a", NOW + 60)).partition(".")[0]
    for forged in (f"{other}.{signature}", f"{payload}.{signature[:-2]}", payload, "", "."):
        with pytest.raises(GalleryAuthError):
            admit(SECRET, LINK, forged, NOW)
    with pytest.raises(GalleryAuthError):
        admit(b"t" * 32, LINK, token, NOW)
    with pytest.raises(GalleryAuthError):
        admit(SECRET, SESSION, token, NOW)  # a link is not a page session
