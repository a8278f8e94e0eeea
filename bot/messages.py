"""Everything the bot says, in one place, so wording is reviewed and changed together."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """The facts the texts quote; built from Settings so the promise matches the code."""

    min_selfies: int
    max_selfies: int
    recommended_selfies: int
    results_days: int
    selfies_hours_after_delivery: int
    abandoned_hours: int
    max_upload_bytes: int


def welcome(policy: Policy) -> str:
    """Return the /start text with the privacy notice."""
    return (
        "Hi! I turn your selfies into a professional headshot pack.\n\n"
        f"How it works: you send me {policy.min_selfies}-{policy.max_selfies} selfies "
        f"({policy.recommended_selfies}+ is best), I check each one right away, you pick styles, "
        "and a GPU renders your pack (I'll tell you how long before you start). "
        "You also get an instant studio retouch of your best selfie within seconds.\n\n"
        + privacy(policy)
        + "\n\nTap “I agree” to begin."
    )


def privacy(policy: Policy) -> str:
    """Return the privacy notice, quoting the retention settings."""
    return (
        "Privacy: I store your accepted selfies, the small face model trained from them and "
        "your results, nothing else. Selfies and the face model are deleted "
        f"{policy.selfies_hours_after_delivery} h after your pack is delivered, results after "
        f"{policy.results_days} days, unfinished sessions after {policy.abandoned_hours} h. "
        "Your photos are never used to train anything but your own pack. "
        "/delete erases everything at once."
    )


HELP = (
    "Commands:\n"
    "/start – begin (or see where you are)\n"
    "/done – finish sending selfies and pick styles\n"
    "/status – where your pack is\n"
    "/cancel – stop the pack being made\n"
    "/new – start a new set of selfies\n"
    "/delete – erase everything I have of you\n"
    "/privacy – what I store and for how long\n"
    "/help – this list"
)

ASK_SUBJECT = "How should the pictures describe you?"

CONSENT_FIRST = "Before I can take photos, please read the notice and tap “I agree” (/start)."


def capture_guide(policy: Policy) -> str:
    """Return the instructions shown before the first selfie."""
    return (
        f"Now send me {policy.min_selfies}-{policy.max_selfies} selfies "
        f"({policy.recommended_selfies}+ gives the best pack). Checklist:\n"
        "• only you in the picture, face and shoulders visible\n"
        "• face the light (a window in front of you, not behind)\n"
        "• no sunglasses, hats or heavy filters\n"
        "• a few angles, expressions, outfits and places\n\n"
        "Tip: send them “as file” to keep full quality. You can send several at once."
    )


def count_line(accepted: int, policy: Policy) -> str:
    """Return the running count shown under every verdict."""
    target = max(policy.recommended_selfies, accepted)
    line = f"{accepted} of {target} good photos"
    if accepted < policy.min_selfies:
        return f"{line} – {policy.min_selfies - accepted} more needed."
    if accepted >= policy.max_selfies:
        return f"{line} – that's the maximum. Tap Continue."
    return f"{line} – enough to continue; more variety makes a better pack."


ICONS = {"accepted": "✅", "warning": "⚠️", "rejected": "❌"}


def verdict_line(label: str, verdict: str, summary: str) -> str:
    """Return one photo's verdict, e.g. '✅ Photo 3: sharp and well lit.'."""
    return f"{ICONS.get(verdict, '•')} {label.capitalize()}: {summary}"


NOT_KEPT_FULL = "not kept: the set already has the most selfies I use. Tap Continue."

SET_FULL = "You already have the maximum number of selfies. Tap Continue (or /done) to pick styles."

TEXT_DURING_CAPTURE = (
    "I'm waiting for selfies: send a photo (or an image file). /help lists commands."
)

NOT_ENOUGH_YET = "I need {missing} more good selfie(s) before we can continue."

PICK_STYLES = "Pick up to {limit} styles for your pack, then tap Done."

PICK_AT_LEAST_ONE_STYLE = "Pick at least one style first."

STYLE_LIMIT = "You can pick up to {limit} styles. Unselect one to choose another."

ASK_PACK_SIZE = "How many headshots per style?"


def ask_tier(express: str, studio: str) -> str:
    """Ask how the pack is made; the times are the workers' measured ones."""
    return (
        "How should I make it?\n"
        f"• Express ({express}): made straight from your selfies, no training.\n"
        f"• Studio ({studio}): I first train a small personal model of your face, for the"
        " best likeness.\n"
        "• Both: the express pack now, and the studio pack after it as an upgrade."
    )


def upgrade_started(studio: str) -> str:
    """Tell the person the studio pack of an upgrade is on its way."""
    return (
        f"Next: your studio pack, from a personal model of your face ({studio}). I'll post its"
        " progress here; /cancel stops it."
    )


BUTTON_EXPIRED = "That button is from an earlier step. Here is where you are:"

JOB_ALREADY_RUNNING = (
    "Your pack is already being made; I'll post it here when it's ready. /status shows progress."
)

ASK_CANCEL = "Stop making your pack? The photos made so far will be discarded."

ASK_DELETE = "Erase everything I have of you: selfies, face model, results and this conversation?"

NOTHING_RUNNING = "Nothing is running right now."

CANCEL_KEPT = "Okay, nothing was changed."

NO_WORKER = (
    "Heads-up: no GPU worker is running right now, so your pack waits in the queue until one "
    "starts. Your instant retouch still comes now. (Host: start one with `headshots worker`.)"
)

FILES_GONE = "Those files are no longer here: results are deleted after the retention period."

PRIVATE_BOT = "Sorry, this is a private headshot studio. Ask its owner for access."

RETOUCH_FAILED = (
    "I couldn't make the instant retouch this time, sorry. Your headshot pack is not affected."
)

UNEXPECTED_ERROR = (
    "Sorry, something went wrong on my side while handling that. Nothing you sent was lost; "
    "please try again in a minute. If it keeps happening, /status shows where you are."
)

UNSUPPORTED = {
    "sticker": "Nice sticker! I need real photos of you, though: send a selfie.",
    "voice": "I can't use voice messages. Send selfies as photos or image files.",
    "audio": "I can't use audio. Send selfies as photos or image files.",
    "video": "Videos can't be used. Please send still photos (or image files).",
    "animation": "Animations can't be used. Please send still photos (or image files).",
    "video_note": "Video messages can't be used. Please send still photos.",
    "document": "That file isn't an image I can read. Send a JPEG, PNG, WebP or HEIC photo.",
    "location": "I only need selfies. Send a photo of yourself.",
    "contact": "I only need selfies. Send a photo of yourself.",
    "poll": "I only need selfies. Send a photo of yourself.",
    "download_failed": "I couldn't download that file. Please send it again in a moment.",
}


def too_large(size_bytes: int | None, limit_bytes: int) -> str:
    """Return the answer to a file above the download limit."""
    size = f"{size_bytes / 1e6:.0f} MB" if size_bytes else "This file"
    return (
        f"{size} is more than I can download ({limit_bytes / 1e6:.0f} MB). Send it as a photo "
        "instead of a file, or export a smaller JPEG."
    )


# ----- the contact sheet: per-image controls after each delivered album -------------------------

SHEET_CONTROLS = (
    "{title}, images {first}-{last}: ⭐ keeps an image (tap again to unkeep), 🔁 makes {more} more"
    " like it, 🎲 re-rolls the style, and 📦 Done sends the kept images (or all, if none is"
    " kept) as one ZIP at full resolution with a profile kit."
)
SHEET_KEEP_LABEL = "⭐ {number}"
SHEET_KEPT_LABEL = "✅ {number}"
SHEET_MORE_LABEL = "🔁 {number}"
SHEET_REROLL_LABEL = "🎲 Re-roll {title}"
SHEET_DONE_LABEL = "📦 Done"
SHEET_GONE = (
    "Those images are no longer here: they were deleted (by /delete or after the retention"
    " period). /start begins again."
)
SHEET_BUSY = (
    "I'm still making your last images. Press the button again once they are delivered, or"
    " /cancel them."
)
SHEET_MORE_STARTED = "Making {count} more like image {number}. They come after a short wait."
SHEET_REROLL_STARTED = "Re-rolling {title}: {count} fresh images are on their way."
SHEET_ZIP_READY_KEPT = (
    "Here are the {count} headshots you kept, at full resolution, with a profile kit (avatar,"
    " e-mail signature picture and LinkedIn banner) made from the first one you kept."
)
SHEET_ZIP_READY_ALL = (
    "You kept none, so here are all {count} headshots of these albums at full resolution, with"
    " a profile kit (avatar, e-mail signature picture and LinkedIn banner) made from image 1."
)
SHEET_ZIP_PARTS = (
    "The ZIP is larger than this chat takes in one file, so it comes in {parts} parts."
)
SHEET_ZIP_FAILED = "Sorry, I could not put the ZIP together. Please press Done again in a minute."
REROLL_LIMIT = (
    "You've made {limit} re-rolls today, the daily limit. Please come back tomorrow; your"
    " images stay here until then."
)
