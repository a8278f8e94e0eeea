"""Platform-neutral inputs and outputs of the conversation core.

Adapters translate a platform update into one `Event` and carry out the `Effect`s the core or the
notifier returns. Nothing here knows Telegram or Discord.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChatRef:
    """Where to answer: a platform, a chat in it, and the person talking."""

    platform: str  # "telegram", "discord", "console"
    chat_id: str
    user_id: str


# ----- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A plain text message."""

    text: str


@dataclass(frozen=True)
class Command:
    """A slash command such as /start, without the slash; `args` is the rest of the line."""

    name: str
    args: str = ""


@dataclass(frozen=True)
class Photo:
    """An image the person sent, already downloaded; `file_id` names it on the platform."""

    data: bytes
    file_id: str
    file_name: str = ""
    group_id: str | None = None  # photos of one album share it


@dataclass(frozen=True)
class Unsupported:
    """Something the bot cannot use (sticker, voice, video, a file too large to fetch)."""

    kind: str
    size_bytes: int | None = None


@dataclass(frozen=True)
class Press:
    """A button press; `data` is the button's callback data."""

    data: str


Event = Text | Command | Photo | Unsupported | Press


# ----- outputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """One inline button; `data` comes back as a Press, or `url` opens a page instead."""

    label: str
    data: str = ""
    url: str = ""  # the gallery: a Mini App on Telegram, a link button elsewhere


@dataclass(frozen=True)
class Reply:
    """Send a text message, optionally with rows of buttons."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class SendPhoto:
    """Send one image with a caption."""

    image: bytes
    caption: str = ""
    file_name: str = "headshot.jpg"


@dataclass(frozen=True)
class SendAlbum:
    """Send 2-10 images as one album; the caption goes on the first."""

    images: tuple[bytes, ...]
    caption: str = ""
    names: tuple[str, ...] = ()  # file names, where the platform shows them (one per image)


@dataclass(frozen=True)
class SendFiles:
    """Send images as files (documents), uncompressed; `files` are (name, bytes) pairs."""

    files: tuple[tuple[str, bytes], ...]
    caption: str = ""


@dataclass(frozen=True)
class Progress:
    """Create or edit the one progress message identified by `key` (e.g. a job id)."""

    key: str
    text: str
    buttons: tuple[tuple[Button, ...], ...] = field(default=())


Effect = Reply | SendPhoto | SendAlbum | SendFiles | Progress
