"""The gallery's words: its button in chat, the page's labels and its plain refusal pages."""

from __future__ import annotations

from bot.text.i18n import N_, t
from bot.text.messages import SHEET_REROLL_LABEL

GALLERY_BUTTON = N_("🖼 Open gallery")
GALLERY_TITLE = N_("Your headshots")
GALLERY_HINT = N_("Tap an image to keep it. Done downloads the kept ones with a profile kit.")
GALLERY_KEPT = N_("✅ Kept")
GALLERY_MORE = N_("🔁 More like this")
GALLERY_FULL = N_("Full size")
GALLERY_REROLL = SHEET_REROLL_LABEL  # the chat's own words
GALLERY_DONE = N_("📦 Done: download the ZIP")
GALLERY_COMING = N_("New images are on their way; they appear here by themselves.")
GALLERY_IMAGE = N_("{title}, image {number}")
GALLERY_CLOSE = N_("Close")
GALLERY_FAILED = N_("That did not work. Please try again.")

UNAUTHORIZED = N_("Open the gallery from the chat: this page could not tell who you are.")
EXPIRED = N_("This gallery link has expired. Open the gallery again from the chat.")
FORBIDDEN = N_("This gallery is not yours.")
GONE = N_("This pack was deleted: nothing of it is left here.")

PAGE_TEXTS = {
    "title": GALLERY_TITLE, "hint": GALLERY_HINT, "kept": GALLERY_KEPT,
    "more": GALLERY_MORE, "full": GALLERY_FULL, "reroll": GALLERY_REROLL, "done": GALLERY_DONE,
    "coming": GALLERY_COMING, "image": GALLERY_IMAGE, "close": GALLERY_CLOSE,
    "failed": GALLERY_FAILED,
}  # fmt: skip


def page_texts() -> dict[str, str]:
    """Return the page's labels in the current language, placeholders left for the page."""
    keep_placeholders = {"title": "{title}", "number": "{number}"}
    return {name: t(text, **keep_placeholders) for name, text in PAGE_TEXTS.items()}
