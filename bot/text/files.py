"""The names of the files a person receives, in their language: headshots, the ZIP, the kit.

Names are translated like any text, then folded to plain ASCII words joined by hyphens, so
every phone, mail client and ZIP tool shows them the same ("portraet-07-graues-business-studio").
"""

from __future__ import annotations

import re
import unicodedata

from bot.text.i18n import N_, t

HEADSHOT = N_("headshot-{number}-{style}")
RETOUCH = N_("studio-retouch")
ZIP = N_("headshots")
ZIP_PART = N_("headshots-part{part}-of-{parts}")
# The profile kit's pieces, by the names engine.retouch.profile gives them.
KIT = {
    "avatar": N_("profile-avatar"),
    "signature": N_("profile-signature"),
    "banner": N_("profile-banner"),
}
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Return `text` as lowercase ASCII words joined by hyphens ("Noir & blanc": noir-blanc)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_WORD.sub("-", folded.lower()).strip("-") or "file"


def headshot(number: int, style_title: str, extension: str = "png") -> str:
    """Return the file name of headshot `number` of a style ("headshot-07-outdoor-city.png")."""
    return f"{slug(t(HEADSHOT, number=f'{number:02d}', style=slug(style_title)))}.{extension}"


def retouch(extension: str = "jpg") -> str:
    """Return the file name of the instant retouch."""
    return f"{slug(t(RETOUCH))}.{extension}"


def zip_name(part: int = 1, parts: int = 1) -> str:
    """Return the name of the ZIP, or of its part `part` of `parts`."""
    stem = t(ZIP) if parts == 1 else t(ZIP_PART, part=part, parts=parts)
    return f"{slug(stem)}.zip"


def kit_piece(name: str, extension: str) -> str:
    """Return the file name of the profile kit's piece `name` ("avatar", "signature", "banner")."""
    label = t(KIT[name]) if name in KIT else f"profile-{name}"
    return f"{slug(label)}.{extension}"
