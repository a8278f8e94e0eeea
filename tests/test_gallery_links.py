"""The Open gallery button under a pack: a Mini App on Telegram, a signed link elsewhere, none
without a public address; each platform's sink renders it as a button that opens a page."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import discord

from bot.chat.events import Button, Reply
from bot.delivery.endings import ending_parts
from bot.fronts.console.adapter import ConsoleSink
from bot.fronts.discord.adapter import button_view
from bot.fronts.gallery.auth import LINK, admit
from bot.fronts.gallery.links import GalleryLinks
from bot.fronts.telegram.sink import _markup
from bot.text.gallery import page_texts
from bot.text.i18n import speaking
from core.settings import Settings
from engine.jobs import Done, PackRequest, StyleResult
from storage.blobs_open import open_blob_store

SECRET = "s" * 32


def _request(platform: str) -> PackRequest:
    return PackRequest(
        platform=platform, chat_id="c1", user_id="u1", user_scope=f"{platform}-0123abcd",
        selfie_keys=("k",), subject="person", style_ids=("office",), pack_size=2, seed=1,
        request_id="r1",
    )  # fmt: skip


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(_env_file=None, storage_url=f"file://{tmp_path}", **extra)  # type: ignore[call-arg, arg-type]


def test_no_public_address_means_no_gallery(tmp_path: Path) -> None:
    assert GalleryLinks.from_settings(_settings(tmp_path)) is None


def test_telegram_gets_the_page_of_its_pack_and_the_others_a_signed_link(tmp_path: Path) -> None:
    settings = _settings(tmp_path, public_url="https://bot.example", gallery_secret=SECRET)
    links = GalleryLinks.from_settings(settings)
    assert links is not None
    telegram = _request("telegram")
    assert links(telegram) == f"https://bot.example/gallery/?pack={telegram.job_id}"
    discord_request = _request("discord")
    address = urlparse(links(discord_request))
    assert (address.scheme, address.netloc, address.path) == ("https", "bot.example", "/gallery/")
    [token] = parse_qs(address.query)["link"]
    grant = admit(SECRET.encode(), LINK, token, time.time())
    assert (grant.scope, grant.pack_id) == ("discord-0123abcd", discord_request.job_id)
    assert grant.expires_at - time.time() > settings.gallery_link_ttl_s - 60


async def test_the_button_comes_with_the_files_offer_of_a_pack_only(tmp_path: Path) -> None:
    blobs = open_blob_store(_settings(tmp_path))
    done = Done(job_id="pack-1", results=(StyleResult("office", ("a", "b")),))
    first = ending_parts("pack-1", done, blobs, {}, gallery="https://bot.example/gallery/?pack=1")
    [_, offer] = await first[0]()
    assert isinstance(offer, Reply)
    assert offer.buttons[-1] == (
        Button("🖼 Open gallery", url="https://bot.example/gallery/?pack=1"),
    )
    plain = ending_parts("pack-1", done, blobs, {})
    [_, offer] = await plain[0]()
    assert isinstance(offer, Reply) and len(offer.buttons) == 1
    await blobs.close()


def test_each_platform_renders_it_as_a_page_to_open(tmp_path: Path) -> None:
    rows = ((Button("⭐ 1", "keep:pack-1:1"), Button("🖼 Open gallery", url="https://g.example/")),)
    markup = _markup(rows)
    assert markup is not None
    keep, gallery = markup.inline_keyboard[0]
    assert keep.callback_data == "keep:pack-1:1" and keep.web_app is None
    assert gallery.web_app is not None and gallery.web_app.url == "https://g.example/"
    view = button_view(rows)
    assert view is not None
    link = view.children[1]
    assert isinstance(link, discord.ui.Button) and link.url == "https://g.example/"
    assert link.style is discord.ButtonStyle.link
    out = _Lines()
    sink = ConsoleSink(out, tmp_path)  # type: ignore[arg-type]
    sink._show_buttons(Reply("pick", rows))
    assert out.text == "     [1] ⭐ 1\n     🖼 Open gallery: https://g.example/\n"
    assert [b.data for b in sink.buttons] == ["keep:pack-1:1"]  # numbers press only buttons


class _Lines:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text


def test_the_page_speaks_the_persons_language_and_keeps_its_placeholders() -> None:
    with speaking("es"):
        texts = page_texts()
    assert texts["title"] == "Tus retratos"
    assert texts["reroll"] == "🎲 Regenerar {title}"  # the chat's own words, filled by the page
    assert texts["image"] == "{title}, imagen {number}"
