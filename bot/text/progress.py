"""What the person reads about a pack job: progress lines with an ETA, captions, endings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.text import messages
from bot.text.i18n import N_, ngettext, t
from engine.jobs import (
    Delivering,
    FailureCode,
    Generating,
    JobEvent,
    Preparing,
    Queued,
    Selecting,
    Tier,
    Training,
)

READY = N_("Your headshots are ready! ✅")
READY_BY_TIER = {Tier.STUDIO: READY, Tier.EXPRESS: N_("Your express headshots are ready! ✅")}
FILES_OFFER = N_(
    "Chat apps recompress photos. Want the full-resolution files for print or your profile?"
)
FILES_BUTTON = N_("Send full-resolution files")
REROLL_READY = N_("Your {count} new images are ready! ✅")
FAILED = N_("Your pack stopped. ❌")
CANCELLED = N_("Your pack was cancelled.")
# The most images one album (Telegram's sendMediaGroup) or one Discord message carries: 10 on both.
# The one owner: packs are split and numbered by it here, and every sink chunks by it.
ALBUM_MAX = 10
CANCELLED_REPLY = N_("Cancelled as you asked. Nothing from this pack was kept.")
FAILURE_REPLIES = {
    FailureCode.ERROR: N_(
        "Sorry, something went wrong while making your pack. Please try again later."
    ),
    FailureCode.TIMEOUT: N_(
        "Your pack took far longer than it should, so I stopped it. Please try again."
    ),
    FailureCode.EMPTY: N_(
        "None of the images I made looked enough like you, so I won't send them. Please try"
        " again with sharper, well-lit selfies."
    ),
    FailureCode.CRASHED: N_(
        "The studio stopped several times while making your pack. Please try again later."
    ),
    FailureCode.NO_FACE: N_(
        "I could not find a clear face in your selfies. Please send a few well-lit photos of"
        " your face, looking at the camera, and try again."
    ),
    FailureCode.TIER_OFF: N_(
        "That kind of pack is not offered on this host right now. Please pick another."
    ),
    FailureCode.EXPIRED: N_(
        "Those images and the selfies behind them were already deleted, as the privacy notice"
        " promises, so I cannot make more like them. {cmd_new} starts a fresh set."
    ),
}


def failure_reply(code: str) -> str:
    """Return what the person is told about a failure code (an unknown code reads as ERROR)."""
    try:
        return t(FAILURE_REPLIES[FailureCode(code)])
    except ValueError:
        return t(FAILURE_REPLIES[FailureCode.ERROR])


def eta_text(eta_s: float | None, first_estimate: bool = False) -> str:
    """Return a rounded, honest time left; a guess made before any pack was timed says so."""
    if eta_s is None:
        return ""
    if eta_s < 60:
        left = t(N_("less than a minute left"))
    elif (minutes := round(eta_s / 60)) < 90:
        left = t(N_("about {minutes} min left"), minutes=minutes)
    else:
        left = t(N_("about {hours} h left"), hours=f"{eta_s / 3600:.1f}")
    return t(N_("{left} (a first estimate)"), left=left) if first_estimate else left


def about_text(seconds: float) -> str:
    """Return how long something takes, rounded as a person says it ("about 9 minutes")."""
    if seconds < 90:
        return t(N_("about a minute"))
    minutes = round(seconds / 60)
    if minutes < 90:
        return t(N_("about {minutes} minutes"), minutes=minutes)
    return t(N_("about {hours} hours"), hours=f"{seconds / 3600:.1f}")


QUEUED_NEXT = N_("⏳ In the queue: position {position} (you're next)")
QUEUED_BEHIND = N_("⏳ In the queue: position {position} ({ahead} ahead of you)")


def progress_text(event: JobEvent) -> str:
    """Return the progress message for a non-final event."""
    match event:
        case Queued(position=position):
            ahead = position - 1
            where = QUEUED_NEXT if ahead <= 0 else QUEUED_BEHIND
            return _with_eta(t(where, position=position, ahead=ahead), event)
        case Preparing():
            return _with_eta(t(N_("🔍 Preparing your photos")), event)
        case Training(tier=Tier.EXPRESS):
            return _with_eta(t(N_("🔍 Choosing your best selfies as references")), event)
        case Training(step=step, total=total, restarted=restarted):
            percent = round(100 * step / total) if total else 0
            line = t(
                N_("🧠 Learning your face: {percent}% (step {step}/{total})"),
                percent=percent,
                step=step,
                total=total,
            )
            return _restarted(_with_eta(line, event), restarted)
        case Generating(done=done, total=total, restarted=restarted):
            line = t(N_("🎨 Creating your headshots: {done}/{total}"), done=done, total=total)
            return _restarted(_with_eta(line, event), restarted)
        case Selecting():
            return _with_eta(t(N_("🏅 Picking the best shots")), event)
        case Delivering():
            return t(N_("📦 Packing your headshots"))
    return t(N_("Working on your pack ({kind})"), kind=event.kind)


def caption(style_id: str, count: int, part: int, parts: int, titles: Mapping[str, str]) -> str:
    """Return the caption of one album of a style."""
    title = messages.style_title(style_id, titles)
    text = ngettext("{title}: {count} headshot", "{title}: {count} headshots", count)
    line = text.format(title=title, count=count)
    return f"{line} ({part}/{parts})" if parts > 1 else line


def tier_caption(tier: Tier, caption: str) -> str:
    """Return an album's caption naming the express tier (the studio one is the plain pack)."""
    return t(N_("Express · {caption}"), caption=caption) if tier is Tier.EXPRESS else caption


def _restarted(text: str, restarted: bool) -> str:
    """Say why the count went back, so progress that jumps back is not a mystery."""
    return f"{text}\n{t(messages.RESTARTED_NOTE)}" if restarted else text


def _with_eta(line: str, event: Queued | Preparing | Training | Generating | Selecting) -> str:
    left = eta_text(event.eta_s, event.first_estimate)
    return f"{line}\n{left}" if left else line


def split_albums(keys: Sequence[str], most: int = ALBUM_MAX) -> list[tuple[str, ...]]:
    """Split into as few albums as the limit allows, balanced so none has a single image."""
    if not keys:
        return []
    count = -(-len(keys) // most)
    size, extra = divmod(len(keys), count)
    chunks, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        chunks.append(tuple(keys[start:end]))
        start = end
    return chunks
