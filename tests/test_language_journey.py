"""A person's own language, end to end: German, French and Brazilian Portuguese speakers go from
/start to their pack's ZIP and /delete, in Telegram (its app's language_code) and in Discord (the
interaction's locale), and not one piece of the English catalog reaches them (tests/english.py);
/language switches, is kept in the session and erased with it; each platform's command menu is
described in every language.

The real python-telegram-bot and discord.py clients against the fake servers, a real
redis-server, the real gate in its pool and a real worker process with the stand-in studio.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import ImageOps
from redis import Redis as SyncRedis

from bot.text import messages as say
from bot.text.i18n import speaking, t
from engine.jobs.keys import STATE_NAMESPACE, session_key
from storage.keys import user_scope
from tests import photos
from tests.english import english_for
from tests.fake_discord import TOKEN as DISCORD_TOKEN
from tests.fake_discord import FakeDiscord
from tests.fake_discord import Sent as DiscordSent
from tests.fake_telegram import FakeTelegram, Sent
from tests.queue_harness import queue_settings, running_bot, telegram_settings, worker_process
from tests.test_discord_journey import running_bot as running_discord_bot

# Three people, each with their app in another language (codes as each platform sends them).
TELEGRAM_PEOPLE = {5001: ("de-AT", "de"), 5002: ("fr", "fr"), 5003: ("pt-br", "pt_BR")}
DISCORD_PEOPLE = {6001: ("de", "de"), 6002: ("fr", "fr"), 6003: ("pt-BR", "pt_BR")}


def _selfies() -> list[bytes]:
    face = photos.astronaut()
    return [photos.to_bytes(face), photos.to_bytes(ImageOps.mirror(face))]


def _data(sent: Sent) -> list[str]:
    return [b["callback_data"] for row in sent.buttons for b in row]


def _labels(sent: Sent) -> list[str]:
    return [b["text"] for row in sent.buttons for b in row]


def _said(language: str, message: str, **params: object) -> str:
    with speaking(language):
        return t(message, **params)


class Person:
    """One Telegram user walking the journey, waiting on the bot's answers to them only."""

    def __init__(self, telegram: FakeTelegram, user: int) -> None:
        self.tg, self.user = telegram, user

    async def button(self, wanted: Callable[[str], bool], since: int = 0) -> Sent:
        """Wait for a message to this person with a button whose data `wanted` accepts."""
        return await self.tg.wait_for(
            lambda s: s.chat_id == self.user and any(map(wanted, _data(s))), 60, since
        )

    async def text(self, fragment: str, since: int = 0) -> Sent:
        """Wait for a message to this person that says `fragment`."""
        return await self.tg.wait_for(
            lambda s: s.chat_id == self.user and fragment in s.text, 60, since
        )

    async def reply(self, since: int) -> Sent:
        """Wait for the first message to this person after the first `since` of all."""
        return await self.tg.wait_for(lambda s: s.chat_id == self.user, 60, since)

    async def file(self, suffix: str, since: int = 0) -> Sent:
        """Wait for a document to this person whose name ends with `suffix`."""
        return await self.tg.wait_for(
            lambda s: s.chat_id == self.user and any(n.endswith(suffix) for n in s.files),
            60,
            since,
        )

    def seen(self) -> list[str]:
        """Return every text, button label and file name this person was sent."""
        mine = [s for s in self.tg.sent if s.chat_id == self.user]
        return [piece for s in mine for piece in (s.text, *_labels(s), *s.files)]


async def _telegram_journey(person: Person, language: str) -> None:
    tg, user = person.tg, person.user
    tg.send_text(user, "/start")
    await person.button(lambda d: d == "consent")
    tg.press(user, "consent")
    await person.button(lambda d: d == "subject:woman")
    since = len(tg.sent)
    tg.press(user, "subject:woman")
    await person.reply(since)  # the checklist
    good = _selfies()
    tg.send_photo(user, good[0])
    tg.send_photo(user, photos.to_bytes(photos.chelsea()))  # a cat: rejected, said why
    tg.send_sticker(user)
    tg.send_photo(user, good[1])
    tg.send_text(user, "hello?")
    await person.button(lambda d: d == "continue")
    tg.press(user, "continue")
    menu = await person.button(lambda d: d.startswith("style:"))
    tg.press(user, _data(menu)[0])
    await person.tg.wait_for(lambda s: s.chat_id == user and "✓" in "".join(_labels(s)), 60)
    tg.press(user, "styles:done")
    await person.button(lambda d: d == "size:4")
    tg.press(user, "size:4")
    confirm = await person.button(lambda d: d.startswith("confirm:"))
    tg.press(user, _data(confirm)[0])
    sheet = await person.button(lambda d: d.startswith("zip:"))
    job = _data(sheet)[-1].removeprefix("zip:")
    tg.press(user, f"files:{job}")
    await person.file(".png")
    tg.press(user, f"keep:{job}:2")
    await person.tg.wait_for(lambda s: s.chat_id == user and "✅ 2" in _labels(s), 60)
    tg.press(user, f"zip:{job}")
    await person.file(".zip")
    for command in ("/status", "/help", "/privacy", "/nope"):
        since = len(tg.sent)
        tg.send_text(user, command)
        await person.reply(since)
    tg.send_text(user, "/delete")
    await person.button(lambda d: d == "delete:yes")
    since = len(tg.sent)
    tg.press(user, "delete:yes")
    await person.text("/start", since)  # everything erased; /start begins again


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    fake.language_codes.update({user: code for user, (code, _) in TELEGRAM_PEOPLE.items()})
    await fake.start()
    yield fake
    await fake.stop()


async def test_telegram_speaks_each_persons_language_from_start_to_delete(
    tmp_path: Path, redis_url: str, telegram: FakeTelegram
) -> None:
    settings = telegram_settings(tmp_path, redis_url, telegram)
    people = {user: Person(telegram, user) for user in TELEGRAM_PEOPLE}
    with worker_process(settings, tmp_path, STANDIN_STEP_S="0.05"):
        async with running_bot(settings):
            await asyncio.gather(
                *(_telegram_journey(people[u], lang) for u, (_, lang) in TELEGRAM_PEOPLE.items())
            )
    for user, (_code, language) in TELEGRAM_PEOPLE.items():  # gate verdicts, ending, ZIP...
        seen = people[user].seen()
        assert len(seen) > 30
        assert english_for(language).found_in(seen) == [], language
        assert any(name.endswith(".zip") for name in seen)  # the ZIP, named in their language
    # The command menu: English for everyone, and one per catalog ("pt" is Telegram's pt_BR).
    assert set(telegram.command_menus) == {"", "de", "es", "fr", "pt"}
    menus = telegram.command_menus
    assert {c["command"] for c in menus[""]} == {c["command"] for c in menus["pt"]}
    assert {c["command"]: c["description"] for c in menus["de"]}["language"] == _said(
        "de", say.COMMAND_HELP["language"]
    )
    for code, language in (("de", "de"), ("fr", "fr"), ("pt", "pt_BR")):
        descriptions = [c["description"] for c in menus[code]]
        assert english_for(language).found_in(descriptions) == [], code


def _session(redis_url: str, user: int) -> dict[str, Any] | None:
    client = SyncRedis.from_url(redis_url)
    try:
        raw = cast(
            bytes | None,
            client.get(STATE_NAMESPACE + session_key(user_scope("telegram", str(user)))),
        )
    finally:
        client.close()
    return None if raw is None else dict(json.loads(raw))


async def test_language_switches_sticks_over_the_apps_and_goes_with_delete(
    tmp_path: Path, redis_url: str, telegram: FakeTelegram
) -> None:
    user = 5001  # the app says de-AT
    person = Person(telegram, user)
    settings = telegram_settings(tmp_path, redis_url, telegram)
    async with running_bot(settings):
        telegram.send_text(user, "/start")
        await person.text(_said("de", say.TAP_TO_AGREE))
        telegram.press(user, "consent")
        await person.button(lambda d: d == "subject:woman")
        telegram.send_text(user, "/language")
        menu = await person.button(lambda d: d == "language:fr")
        assert "✓ Deutsch" in _labels(menu)
        telegram.press(user, "language:fr")
        await person.text(_said("fr", say.LANGUAGE_CHOSEN))
        stored = _session(redis_url, user)
        assert stored is not None and stored["chosen_language"] == "fr"
        since = len(telegram.sent)
        telegram.send_text(user, "/help")  # the app still says de-AT: French wins
        await person.text(_said("fr", say.COMMAND_HELP["language"]), since)
        telegram.send_text(user, "/delete")
        await person.button(lambda d: d == "delete:yes", since)
        since = len(telegram.sent)
        telegram.press(user, "delete:yes")
        erased = await person.text("/start", since)
        assert _said("fr", say.LANGUAGE_CHOSEN) not in erased.text and "effacé" in erased.text
        assert _session(redis_url, user) is None  # the choice went with everything else
        since = len(telegram.sent)
        telegram.send_text(user, "/start")
        await person.text(_said("de", say.TAP_TO_AGREE), since)  # the app's language again


# ----- Discord --------------------------------------------------------------------------------


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    fake.locales.update({user: locale for user, (locale, _) in DISCORD_PEOPLE.items()})
    await fake.start()
    yield fake
    await fake.stop()


def _discord_data(sent: DiscordSent) -> list[str]:
    return [b["custom_id"].removeprefix("hs:") for row in sent.buttons for b in row]


async def _discord_journey(dc: FakeDiscord, user: int) -> None:
    channel = 50_000_000 + user

    async def button(wanted: Callable[[str], bool]) -> DiscordSent:
        return await dc.wait_for(
            lambda s: s.channel_id == channel and any(map(wanted, _discord_data(s))), 60
        )

    dc.slash(user, "start")
    await button(lambda d: d == "consent")
    dc.press(user, "consent")
    await button(lambda d: d == "subject:woman")
    since = len(dc.sent)
    dc.press(user, "subject:woman")
    await dc.wait_for(lambda s: s.channel_id == channel, 60, since)  # the checklist
    dc.send_files(user, [(f"me{n}.jpg", "image/jpeg", data) for n, data in enumerate(_selfies())])
    await button(lambda d: d == "continue")  # a DM: no locale, the session remembers theirs
    dc.press(user, "continue")
    menu = await button(lambda d: d.startswith("style:"))
    dc.press(user, _discord_data(menu)[0])
    await dc.wait_for(lambda s: s.channel_id == channel and "✓" in str(s.buttons), 60)
    dc.press(user, "styles:done")
    await button(lambda d: d == "size:4")
    dc.press(user, "size:4")
    confirm = await button(lambda d: d.startswith("confirm:"))
    dc.press(user, _discord_data(confirm)[0])
    sheet = await button(lambda d: d.startswith("zip:"))
    dc.press(user, _discord_data(sheet)[-1])
    await dc.wait_for(lambda s: s.channel_id == channel and any(".zip" in n for n in s.names), 60)
    dc.slash(user, "status", guild_id=1234)  # from a server: the note is in their locale too
    dc.slash(user, "help")
    await dc.wait_for(lambda s: s.channel_id == channel and "/headshots language" in s.text, 60)


async def test_discord_speaks_each_persons_locale_and_describes_its_commands_in_it(
    tmp_path: Path, redis_url: str, discord: FakeDiscord
) -> None:
    settings = queue_settings(
        tmp_path, redis_url,
        discord_token=DISCORD_TOKEN, discord_api_base=discord.api_base,
        discord_gateway_url=discord.gateway_url,
        min_selfies=2, max_selfies=4, gate_workers=1, album_wait_s=0.3,
    )  # fmt: skip
    with worker_process(settings, tmp_path, STANDIN_STEP_S="0.05"):
        async with running_discord_bot(settings):
            await asyncio.gather(*(_discord_journey(discord, user) for user in DISCORD_PEOPLE))
            await asyncio.sleep(0.5)  # the server channel's tidied-up notes
    for user, (_locale, language) in DISCORD_PEOPLE.items():
        mine = [s for s in discord.sent if s.channel_id == 50_000_000 + user]
        seen = [p for s in mine for p in (s.text, *(b["label"] for r in s.buttons for b in r))]
        seen += [name for s in mine for name in s.names]
        assert sum(s.photos for s in mine) >= 4
        assert english_for(language).found_in(seen) == [], language
    notes = [body.get("content", "") for _method, _token, body in discord.webhook_calls]
    assert _said("de", "I answered in our DMs.") in notes
    _assert_commands_localized(discord.synced_commands[-1])


def _assert_commands_localized(payload: list[dict[str, Any]]) -> None:
    [group] = payload
    assert group["description_localizations"]["pt-BR"] == _said("pt_BR", group["description"])
    subcommands = {option["name"]: option for option in group["options"]}
    assert set(subcommands) >= {"start", "delete", "language", "help"}
    for name, command in subcommands.items():
        localized = command["description_localizations"]
        assert command["name_localizations"] in ({}, None)  # names stay as the texts type them
        for locale, language in (("de", "de"), ("fr", "fr"), ("pt-BR", "pt_BR"), ("es-419", "es")):
            assert localized[locale] == _said(language, say.COMMAND_HELP[name]), (name, locale)
        assert "ja" not in localized  # no catalog: Discord shows the English
    [option] = subcommands["language"]["options"]
    assert option["description_localizations"]["fr"] == _said("fr", option["description"])
    assert {choice["value"] for choice in option["choices"]} == {"en", "de", "es", "fr", "pt_BR"}
