"""The whole Telegram journey for a person whose app is in Spanish: every message the bot sends
them is in Spanish, gate verdicts, buttons and the pack's ending included."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import ImageOps

from engine.studio.styles import list_styles
from tests import photos
from tests.fake_telegram import TOKEN, FakeTelegram, Sent
from tests.queue_harness import queue_settings, running_bot, worker_process

USER = 3434
# Words that appear in nearly every English sentence the bot writes and in none of the Spanish.
ENGLISH = re.compile(r"\b(the|your|you|photo|photos|pack|please|with|of)\b", re.IGNORECASE)


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    fake.language_codes[USER] = "es-419"  # Telegram sends the app's language with every update
    await fake.start()
    yield fake
    await fake.stop()


def _has(fragment: str) -> object:
    return lambda sent: sent.chat_id == USER and fragment in sent.text


def _english(sent: Sent) -> list[str]:
    """Return the English words in a message, style titles (data, not text) left out."""
    text = sent.text
    for style in list_styles():
        text = text.replace(style.title, "")
    labels = [b.get("text", "") for row in sent.buttons for b in row]
    return ENGLISH.findall(" ".join([text, *labels]))


async def test_a_spanish_speaker_reads_everything_in_spanish(
    tmp_path: Path, redis_url: str, telegram: FakeTelegram
) -> None:
    settings = queue_settings(
        tmp_path, redis_url, telegram_token=TOKEN, telegram_base_url=telegram.base_url,
        telegram_base_file_url=telegram.base_file_url, min_selfies=2, max_selfies=4,
        gate_workers=1, album_wait_s=0.3,
    )  # fmt: skip
    face = photos.astronaut()
    with worker_process(settings, tmp_path, STANDIN_STEP_S="0.05"):
        async with running_bot(settings):
            telegram.send_text(USER, "/start")
            await telegram.wait_for(_has("¡Hola!"))
            telegram.press(USER, "consent")
            await telegram.wait_for(_has("¿Cómo deben describirte"))
            telegram.press(USER, "subject:woman")
            await telegram.wait_for(_has("Lista de comprobación"))
            telegram.send_photo(USER, photos.to_bytes(face))
            telegram.send_photo(USER, photos.to_bytes(photos.chelsea()))  # a cat: rejected
            telegram.send_sticker(USER)
            telegram.send_photo(USER, photos.to_bytes(ImageOps.mirror(face)))
            await telegram.wait_for(_has("2 fotos buenas"), timeout_s=60)
            telegram.press(USER, "continue")
            menu = await telegram.wait_for(_has("Elige hasta"))
            telegram.press(USER, menu.buttons[0][0]["callback_data"])
            await telegram.wait_for(_has("Elige hasta"), since=len(telegram.sent) - 1)
            telegram.press(USER, "styles:done")
            await telegram.wait_for(_has("¿Cuántos retratos"))
            telegram.press(USER, "size:4")
            confirm = await telegram.wait_for(_has("Listo para hacer tu paquete"))
            telegram.press(USER, str(confirm.buttons[0][0]["callback_data"]))
            await telegram.wait_for(_has("resolución completa"), timeout_s=60)
            telegram.send_text(USER, "/status")
            await telegram.wait_for(_has("Tu último paquete está terminado"))
            telegram.send_text(USER, "/help")
            await telegram.wait_for(_has("Comandos:"))
            telegram.send_text(USER, "/delete")
            await telegram.wait_for(_has("¿Borro todo"))
            telegram.press(USER, "delete:yes")
            await telegram.wait_for(_has("Aquí no queda nada tuyo"), timeout_s=30)
    mine = [s for s in telegram.sent if s.chat_id == USER and (s.text or s.buttons)]
    assert len(mine) > 15
    english = {s.text: _english(s) for s in mine if _english(s)}
    assert english == {}
