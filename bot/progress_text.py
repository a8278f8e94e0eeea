"""What the person reads about a pack job: progress lines with an ETA, captions, endings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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

READY = "Your headshots are ready! ✅"
READY_BY_TIER = {Tier.STUDIO: READY, Tier.EXPRESS: "Your express headshots are ready! ✅"}
FILES_OFFER = (
    "Chat apps recompress photos. Want the full-resolution files for print or your profile?"
)
FILES_BUTTON = "Send full-resolution files"
REROLL_READY = "Your {count} new images are ready! ✅"
FAILED = "Your pack stopped. ❌"
CANCELLED = "Your pack was cancelled."
ALBUM_MAX = 10  # Telegram and Discord both take 2-10 items per album
CANCELLED_REPLY = "Cancelled as you asked. Nothing from this pack was kept."
FAILURE_REPLIES = {
    FailureCode.ERROR: (
        "Sorry, something went wrong while making your pack. Please try again later."
    ),
    FailureCode.TIMEOUT: (
        "Your pack took far longer than it should, so I stopped it. Please try again."
    ),
    FailureCode.EMPTY: (
        "None of the images I made looked enough like you, so I won't send them. Please try"
        " again with sharper, well-lit selfies."
    ),
    FailureCode.CRASHED: (
        "The studio stopped several times while making your pack. Please try again later."
    ),
    FailureCode.NO_FACE: (
        "I could not find a clear face in your selfies. Please send a few well-lit photos of"
        " your face, looking at the camera, and try again."
    ),
    FailureCode.TIER_OFF: (
        "That kind of pack is not offered on this host right now. Please pick another."
    ),
    FailureCode.EXPIRED: (
        "Those images and the selfies behind them were already deleted, as the privacy notice"
        " promises, so I cannot make more like them. /new starts a fresh set."
    ),
}


def failure_reply(code: str) -> str:
    """Return what the person is told about a failure code (an unknown code reads as ERROR)."""
    try:
        return FAILURE_REPLIES[FailureCode(code)]
    except ValueError:
        return FAILURE_REPLIES[FailureCode.ERROR]


def eta_text(eta_s: float | None) -> str:
    """Return a rounded, honest time left."""
    if eta_s is None:
        return ""
    if eta_s < 60:
        return "less than a minute left"
    minutes = round(eta_s / 60)
    if minutes < 90:
        return f"about {minutes} min left"
    return f"about {eta_s / 3600:.1f} h left"


def about_text(seconds: float) -> str:
    """Return how long something takes, rounded as a person says it ("about 9 minutes")."""
    if seconds < 90:
        return "about a minute"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} minutes"
    return f"about {seconds / 3600:.1f} hours"


def progress_text(event: JobEvent) -> str:
    """Return the progress message for a non-final event."""
    match event:
        case Queued(position=position, eta_s=eta_s):
            ahead = position - 1
            where = "you're next" if ahead <= 0 else f"{ahead} ahead of you"
            return _with_eta(f"⏳ In the queue: position {position} ({where})", eta_s)
        case Preparing(eta_s=eta_s):
            return _with_eta("🔍 Preparing your photos", eta_s)
        case Training(tier=Tier.EXPRESS, eta_s=eta_s):
            return _with_eta("🔍 Choosing your best selfies as references", eta_s)
        case Training(step=step, total=total, eta_s=eta_s):
            percent = round(100 * step / total) if total else 0
            return _with_eta(f"🧠 Learning your face: {percent}% (step {step}/{total})", eta_s)
        case Generating(done=done, total=total, eta_s=eta_s):
            return _with_eta(f"🎨 Creating your headshots: {done}/{total}", eta_s)
        case Selecting(eta_s=eta_s):
            return _with_eta("🏅 Picking the best shots", eta_s)
        case Delivering():
            return "📦 Packing your headshots"
    return f"Working on your pack ({event.kind})"


def caption(style_id: str, count: int, part: int, parts: int, titles: Mapping[str, str]) -> str:
    """Return the caption of one album of a style."""
    title = titles.get(style_id) or style_id.replace("-", " ").replace("_", " ").capitalize()
    noun = "headshot" if count == 1 else "headshots"
    suffix = f" ({part}/{parts})" if parts > 1 else ""
    return f"{title}: {count} {noun}{suffix}"


def tier_caption(tier: Tier, caption: str) -> str:
    """Return an album's caption naming the express tier (the studio one is the plain pack)."""
    return f"Express · {caption}" if tier is Tier.EXPRESS else caption


def _with_eta(line: str, eta_s: float | None) -> str:
    left = eta_text(eta_s)
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
