"""The end of a pack job as parts of effects; the notifier sends each part exactly once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from bot.chat.contact_sheet import controls, sheet_albums
from bot.chat.events import Button, Effect, Progress, Reply, SendAlbum, SendPhoto
from bot.text import files as names
from bot.text import messages
from bot.text import progress as say
from bot.text.gallery import GALLERY_BUTTON
from bot.text.i18n import t
from engine.jobs import Cancelled, Failed, TerminalEvent, Tier
from storage.blobs import BlobStore

Part = Callable[[], Awaitable[list[Effect]]]
"""Builds one part's effects when it is about to be sent (images are loaded only then)."""


def ending_parts(
    job_id: str,
    event: TerminalEvent,
    blobs: BlobStore,
    titles: Mapping[str, str],
    tier: Tier = Tier.STUDIO,
    *,
    reroll: bool = False,
    first: int = 1,
    gallery: str = "",
) -> list[Part]:
    """Return the parts that tell the person how the job ended, in sending order.

    An express pack says so in its headline and captions: with an upgrade, the studio pack of
    the same styles follows it in the same chat. A re-roll's images come with their own
    controls but no files offer: Done sends them at full resolution. Its images are numbered
    from `first`, where its pack's numbers got to. `gallery` is the address of the pack's
    gallery page, offered with the files when there is one.
    """
    if isinstance(event, Failed):
        return [
            _fixed([Progress(key=job_id, text=t(say.FAILED)), Reply(say.failure_reply(event.code))])
        ]
    if isinstance(event, Cancelled):
        cancelled = Progress(key=job_id, text=t(say.CANCELLED))
        return [_fixed([cancelled, Reply(t(say.CANCELLED_REPLY))])]
    if reroll:
        count = sum(len(result.keys) for result in event.results)
        parts = [_fixed([Progress(key=job_id, text=t(say.REROLL_READY, count=count))])]
    else:
        rows = [(Button(t(say.FILES_BUTTON), f"files:{job_id}"),)]
        if gallery:
            rows.append((Button(t(GALLERY_BUTTON), url=gallery),))
        offer = Reply(t(say.FILES_OFFER), tuple(rows))
        # The offer comes first so that the newest buttons are the last album's controls (a
        # console chat presses the newest; in chat apps each album keeps them beneath it).
        parts = [_fixed([Progress(key=job_id, text=t(say.READY_BY_TIER[tier])), offer])]
    albums = sheet_albums(event, first)
    for album in albums:
        of_style = [a for a in albums if a.style_id == album.style_id]
        number = of_style.index(album) + 1
        text = say.caption(album.style_id, len(album.keys), number, len(of_style), titles)
        title = messages.style_title(album.style_id, titles)
        named = tuple(names.headshot(n, title) for n in album.numbers)
        parts.append(_album(blobs, album.keys, say.tier_caption(tier, text), named))
        # Albums carry no buttons: the per-image controls follow each one (bot/chat/contact_sheet).
        parts.append(_fixed([controls(job_id, album, (), titles)]))
    return parts


def _album(blobs: BlobStore, keys: Sequence[str], caption: str, named: tuple[str, ...]) -> Part:
    async def load() -> list[Effect]:
        images = tuple([await blobs.get(key) for key in keys])
        if len(images) == 1:
            return [SendPhoto(images[0], caption=caption, file_name=named[0])]
        return [SendAlbum(images, caption=caption, names=named)]

    return load


def _fixed(effects: list[Effect]) -> Part:
    async def same() -> list[Effect]:
        return effects

    return same
