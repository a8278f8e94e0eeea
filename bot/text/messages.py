"""Everything the bot says in the conversation, in one place, as gettext message ids.

Constants are marked with `N_` and translated where they are used (`t(say.X)`); functions
translate as they compose. `{cmd_<name>}` placeholders name commands the way the platform does
(see bot.text.i18n). The Spanish catalog is bot/text/locale/es/LC_MESSAGES/headshots.po.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.text.i18n import N_, _, command, ngettext, t
from engine.quality.report import Verdict


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
    packs_per_day: int = 3


def welcome(policy: Policy) -> str:
    """Return the /start text with the privacy notice."""
    intro = t(
        N_(
            "Hi! I turn your selfies into a professional headshot pack.\n\n"
            "How it works: you send me {min}-{max} selfies ({best}+ is best), I check each one"
            " right away, you pick styles, and a GPU renders your pack (I'll tell you how long"
            " before you start). You also get an instant studio retouch of your best selfie"
            " within seconds."
        ),
        min=policy.min_selfies,
        max=policy.max_selfies,
        best=policy.recommended_selfies,
    )
    return f"{intro}\n\n{privacy(policy)}\n\n{t(TAP_TO_AGREE)}"


TAP_TO_AGREE = N_("Tap “I agree” to begin.")


def privacy(policy: Policy) -> str:
    """Return the privacy notice: everything kept and for how long, quoting the settings."""
    return t(
        N_(
            "Privacy: what I keep and for how long.\n"
            "• Your accepted selfies, the crops and small face model trained from them, and the"
            " candidate images: until {selfies_h} h after your pack ends. Rejected photos are"
            " never stored.\n"
            "• Your headshots, the pack's record and its progress history: {results_days} days.\n"
            "• This conversation: your choices and, for each accepted selfie, its checks and a"
            " face descriptor (128 numbers, used to tell that every photo shows you): until"
            " {abandoned_h} h after your last message.\n"
            "• Today's pack count, under a code that changes every day and names no one: until"
            " the day ends (UTC), even after {cmd_delete}, so the limit of {per_day} packs a day"
            " holds. Cancelled packs count.\n"
            "• In the console chat only: copies of the photos I send, under data/console/ on this"
            " computer, until you delete them there.\n"
            "Your photos are never used to train anything but your own pack. {cmd_delete} erases"
            " all of it at once, but for today's pack count and the console's copies."
        ),
        selfies_h=policy.selfies_hours_after_delivery,
        results_days=policy.results_days,
        abandoned_h=policy.abandoned_hours,
        per_day=policy.packs_per_day,
    )


# What each command does, in the order help lists them; a platform lists the ones it has.
COMMAND_HELP = {
    "start": N_("begin (or see where you are)"),
    "done": N_("finish sending selfies and pick styles"),
    "status": N_("where your pack is"),
    "cancel": N_("stop the pack being made"),
    "new": N_("start a new set of selfies"),
    "delete": N_("erase everything I have of you"),
    "language": N_("choose the language I write in"),
    "privacy": N_("what I store and for how long"),
    "help": N_("what each command does"),
}


def help_text(commands: tuple[str, ...] = tuple(COMMAND_HELP)) -> str:
    """Return the command list of a platform that has `commands`."""
    lines = [f"{command(name)} – {t(COMMAND_HELP[name])}" for name in commands]
    return "\n".join([t(N_("Commands:")), *lines])


def unknown_command(name: str, commands: tuple[str, ...]) -> str:
    """Answer a command the bot does not have."""
    return f"{t(UNKNOWN_COMMAND, name=command(name))}\n\n{help_text(commands)}"


UNKNOWN_COMMAND = N_("I don't know {name}.")


ASK_SUBJECT = N_("How should the pictures describe you?")

ASK_LANGUAGE = N_("Which language should I write in?")
# Each catalog says it in its own language ("Alles klar, ab jetzt schreibe ich auf Deutsch.").
LANGUAGE_CHOSEN = N_("Okay, I'll write in English from now on.")

CONSENT_FIRST = N_(
    "Before I can take photos, please read the notice and tap “I agree” ({cmd_start})."
)


def capture_guide(policy: Policy) -> str:
    """Return the instructions shown before the first selfie."""
    return t(
        N_(
            "Now send me {min}-{max} selfies ({best}+ gives the best pack). Checklist:\n"
            "• only you in the picture, face and shoulders visible\n"
            "• face the light (a window in front of you, not behind)\n"
            "• no sunglasses, hats or heavy filters\n"
            "• a few angles, expressions, outfits and places\n\n"
            "Tip: send them “as file” to keep full quality. You can send several at once."
        ),
        min=policy.min_selfies,
        max=policy.max_selfies,
        best=policy.recommended_selfies,
    )


def count_line(accepted: int, policy: Policy) -> str:
    """Return the running count under every verdict: the minimum and the recommendation apart."""
    so_far = ngettext("{n} good photo so far", "{n} good photos so far", accepted).format(
        n=accepted
    )
    missing = policy.min_selfies - accepted
    if missing > 0:
        rest = ngettext(
            "{missing} more to start, {best} for the best pack.",
            "{missing} more to start, {best} for the best pack.",
            missing,
        ).format(missing=missing, best=policy.recommended_selfies)
    elif accepted >= policy.max_selfies:
        rest = t(N_("that's the maximum. Tap Continue."))
    elif accepted < policy.recommended_selfies:
        more = policy.recommended_selfies - accepted
        rest = t(N_("enough to start; {more} more for the best pack."), more=more)
    else:
        rest = t(N_("enough to continue; more variety makes a better pack."))
    return f"{so_far}; {rest}"


ICONS = {Verdict.ACCEPTED: "✅", Verdict.WARNING: "⚠️", Verdict.REJECTED: "❌"}


def verdict_line(label: str, verdict: Verdict, summary: str) -> str:
    """Return one photo's verdict, e.g. '✅ Photo 3: sharp and well lit.'."""
    return f"{ICONS[verdict]} {label[:1].upper()}{label[1:]}: {summary}"


def photo_label(number: int) -> str:
    """Return how the person's photo number `number` is named in the chat."""
    return t(N_("photo {number}"), number=number)


def set_aside(label: str, others: int) -> str:
    """Return the line for an earlier photo that turned out to show someone else."""
    return ngettext(
        "{label} doesn't look like the other photo, so I've set it aside. Send only photos of you.",
        "{label} doesn't look like the other {others}, so I've set it aside. Send only photos of"
        " you.",
        others,
    ).format(label=label[:1].upper() + label[1:], others=others)


def counts_again(label: str) -> str:
    """Return the line for a set-aside photo that now matches the person's other photos."""
    return t(
        N_("{label} counts now: it matches your other photos."),
        label=label[:1].upper() + label[1:],
    )


def not_kept_overflow(label: str) -> str:
    """Say that an accepted photo did not fit in the set."""
    return t(N_("{label}: not kept, the set is full."), label=label[:1].upper() + label[1:])


def tip(hint: str) -> str:
    """Return a variety hint's line."""
    return t(N_("Tip: {hint}"), hint=hint)


NOT_KEPT_FULL = N_("not kept: the set already has the most selfies I use. Tap Continue.")

SET_FULL = N_(
    "You already have the maximum number of selfies. Tap Continue (or {cmd_done}) to pick styles."
)

NOT_COLLECTING = N_("I'm not collecting photos right now.")

TEXT_DURING_CAPTURE = N_(
    "I'm waiting for selfies: send a photo (or an image file). {cmd_help} lists commands."
)


def not_enough_yet(missing: int) -> str:
    """Say how many more good selfies are needed to continue."""
    return ngettext(
        "I need {missing} more good selfie before we can continue.",
        "I need {missing} more good selfies before we can continue.",
        missing,
    ).format(missing=missing)


PICK_STYLES = N_("Pick up to {limit} styles for your pack, then tap Done.")

STYLE_LINE = N_("• {title}: {description}")


def style_title(style_id: str, titles: Mapping[str, str]) -> str:
    """Return a style's title in the person's language (its id, made readable, if unknown).

    Titles and descriptions come from the style packs; `make catalog` extracts them.
    """
    title = titles.get(style_id)
    return _(title) if title else style_id.replace("-", " ").replace("_", " ").capitalize()


PICK_AT_LEAST_ONE_STYLE = N_("Pick at least one style first.")

STYLE_LIMIT = N_("You can pick up to {limit} styles. Unselect one to choose another.")

ASK_PACK_SIZE = N_("How many headshots per style?")

LAST_PACK_FINISHED = N_("Your last pack is finished. {cmd_new} starts a new set of selfies.")

START_AGAIN = N_("{cmd_new} starts a new set of selfies.")

LAST_PACK_CANCELLED = N_(
    "Your last pack was cancelled, nothing of it was kept. {cmd_new} starts a new set of selfies."
)

# The workers' state, said in the person's words (engine.jobs.workers; hosts read `doctor`).
PACKS_UNAVAILABLE = N_(
    "Packs can't be made on this host right now, sorry. Your instant retouch still comes now;"
    " press Start again later."
)
NO_WORKER_NOTE = N_(
    "The studio is not running right now: your pack keeps its place and starts when it is back."
)
# Said at the confirmation when the order's tier has no live worker but the other tier has one.
NO_TIER_WORKER = {
    "studio": N_(
        "No studio worker is running right now; express is. Your studio pack keeps its place"
        " and starts when one is back."
    ),
    "express": N_(
        "No express worker is running right now; studio is. Your express pack keeps its place"
        " and starts when one is back."
    ),
}
UNAVAILABLE_NOTE = N_(
    "Packs can't be made on this host right now; your pack waits. {cmd_cancel} stops it."
)
RESTARTED_NOTE = N_("Restarted after an interruption; nothing is lost but time.")
RETOUCH_ONLY_CAPTION = N_("Your instant studio retouch of {label}.")


def ask_tier(express: str, studio: str) -> str:
    """Ask how the pack is made; the times are the workers' measured ones."""
    return t(
        N_(
            "How should I make it?\n"
            "• Express ({express}): made straight from your selfies, no training.\n"
            "• Studio ({studio}): I first train a small personal model of your face, for the"
            " best likeness.\n"
            "• Both: the express pack now, and the studio pack after it as an upgrade."
        ),
        express=express,
        studio=studio,
    )


def upgrade_started(studio: str) -> str:
    """Tell the person the studio pack of an upgrade is on its way."""
    return t(
        N_(
            "Next: your studio pack, from a personal model of your face ({studio}). I'll post"
            " its progress here; {cmd_cancel} stops it."
        ),
        studio=studio,
    )


BUTTON_EXPIRED = N_("That button is from an earlier step. Here is where you are:")

MENU_ABOVE = N_("That button is from an earlier step; the menu above is where you are now.")

JOB_ALREADY_RUNNING = N_(
    "Your pack is already being made; I'll post it here when it's ready. {cmd_status} shows"
    " progress."
)

ASK_CANCEL = N_("Stop making your pack? The photos made so far will be discarded.")

ASK_DELETE = N_(
    "Erase everything I have of you: selfies, face model, results and this conversation?"
)

NOTHING_RUNNING = N_("Nothing is running right now.")

STOPPING = N_("Stopping your pack…")

CANCEL_KEPT = N_("Okay, nothing was changed.")

FILES_GONE = N_("Those files are no longer here: results are deleted after the retention period.")

PRIVATE_BOT = N_("Sorry, this is a private headshot studio. Ask its owner for access.")

RETOUCH_FAILED = N_(
    "I couldn't make the instant retouch this time, sorry. Your headshot pack is not affected."
)

RETOUCH_CAPTION = N_("Your instant studio retouch of {label}. Your full pack is on its way.")

UNEXPECTED_ERROR = N_(
    "Sorry, something went wrong on my side while handling that. Nothing you sent was lost;"
    " please try again in a minute. If it keeps happening, {cmd_status} shows where you are."
)

UNSUPPORTED = {
    "sticker": N_("Nice sticker! I need real photos of you, though: send a selfie."),
    "voice": N_("I can't use voice messages. Send selfies as photos or image files."),
    "audio": N_("I can't use audio. Send selfies as photos or image files."),
    "video": N_("Videos can't be used. Please send still photos (or image files)."),
    "animation": N_("Animations can't be used. Please send still photos (or image files)."),
    "video_note": N_("Video messages can't be used. Please send still photos."),
    "document": N_("That file isn't an image I can read. Send a JPEG, PNG, WebP or HEIC photo."),
    "location": N_("I only need selfies. Send a photo of yourself."),
    "contact": N_("I only need selfies. Send a photo of yourself."),
    "poll": N_("I only need selfies. Send a photo of yourself."),
    "download_failed": N_("I couldn't download that file. Please send it again in a moment."),
}

BUTTONS = {
    "consent": N_("I agree"),
    "continue": N_("Continue"),
    "cancel:yes": N_("Yes, stop it"),
    "cancel:no": N_("No, keep going"),
    "delete:yes": N_("Yes, erase everything"),
    "delete:no": N_("No"),
    "start": N_("Start"),
    "styles:again": N_("Change styles"),
    "tier:again": N_("Change express / studio"),
    "styles:done": N_("Done ({count} chosen)"),
    "files": N_("Send full-resolution files"),
}

SUBJECTS = {"man": N_("Man"), "woman": N_("Woman"), "person": N_("Person")}


def too_large(size_bytes: int | None, limit_bytes: int) -> str:
    """Return the answer to a file above the download limit."""
    limit = round(limit_bytes / 1e6)
    if not size_bytes:
        return t(
            N_(
                "This file is more than I can download ({limit} MB). Send it as a photo instead"
                " of a file, or export a smaller JPEG."
            ),
            limit=limit,
        )
    return t(
        N_(
            "{size} MB is more than I can download ({limit} MB). Send it as a photo instead of a"
            " file, or export a smaller JPEG."
        ),
        size=round(size_bytes / 1e6),
        limit=limit,
    )


# ----- the contact sheet: per-image controls after each delivered album -------------------------

SHEET_CONTROLS = N_(
    "{title}, images {first}-{last}: ⭐ keeps an image (tap again to unkeep), 🔁 makes {more} more"
    " like it, 🎲 re-rolls the style, and 📦 Done sends the kept images (or all, if none is"
    " kept) as one ZIP at full resolution with a profile kit."
)
SHEET_KEEP_LABEL = N_("⭐ {number}")
SHEET_KEPT_LABEL = N_("✅ {number}")
SHEET_MORE_LABEL = N_("🔁 {number}")
SHEET_REROLL_LABEL = N_("🎲 Re-roll {title}")
SHEET_DONE_LABEL = N_("📦 Done")
SHEET_GONE = N_(
    "Those images are no longer here: they were deleted (by {cmd_delete} or after the retention"
    " period). {cmd_start} begins again."
)
SHEET_BUSY = N_(
    "I'm still making your last images. Press the button again once they are delivered, or"
    " {cmd_cancel} them."
)
SHEET_MORE_STARTED = N_("Making {count} more like image {number}. They come after a short wait.")
SHEET_REROLL_STARTED = N_("Re-rolling {title}: {count} fresh images are on their way.")
SHEET_ZIP_READY_KEPT = N_(
    "Here are the {count} headshots you kept, at full resolution, with a profile kit (avatar,"
    " e-mail signature picture and LinkedIn banner) made from the first one you kept."
)
SHEET_ZIP_READY_ALL = N_(
    "You kept none, so here are all {count} headshots of these albums at full resolution, with"
    " a profile kit (avatar, e-mail signature picture and LinkedIn banner) made from the first one."
)
SHEET_ZIP_PARTS = N_(
    "The ZIP is larger than this chat takes in one file, so it comes in {parts} parts."
)
REROLL_LIMIT = N_(
    "You've made {limit} re-rolls today, the daily limit. Please come back tomorrow; your"
    " images stay here until then."
)
