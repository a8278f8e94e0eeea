"""The menus the core shows: welcome, subject, styles, pack size and the confirmation."""

from __future__ import annotations

from dataclasses import dataclass

from bot import messages as say
from bot.events import Button, Progress, Reply
from bot.session import Session

SUBJECTS = ("man", "woman", "person")
STYLE_MENU_KEY = "styles"


@dataclass(frozen=True)
class StyleChoice:
    """A style pack as the person sees it."""

    id: str
    title: str


@dataclass(frozen=True)
class CoreConfig:
    """What the core needs to know about the deployment."""

    policy: say.Policy
    styles: tuple[StyleChoice, ...]
    max_styles: int = 4
    pack_sizes: tuple[int, ...] = (4, 8, 12)
    train_minutes: float = 8.0  # rough, shown before confirming; live ETAs come from the worker
    seconds_per_image: float = 6.0


def welcome(config: CoreConfig) -> Reply:
    """Return the /start message with the consent button."""
    return Reply(say.welcome(config.policy), ((Button("I agree", "consent"),),))


def subject_question() -> Reply:
    """Ask how prompts should describe the person."""
    row = tuple(Button(subject.capitalize(), f"subject:{subject}") for subject in SUBJECTS)
    return Reply(say.ASK_SUBJECT, (row,))


def style_menu(session: Session, config: CoreConfig) -> Progress:
    """Return the multi-select style keyboard, edited in place as the person picks."""
    rows = []
    for style in config.styles:
        mark = "✓ " if style.id in session.styles else ""
        rows.append((Button(f"{mark}{style.title}", f"style:{style.id}"),))
    rows.append((Button(f"Done ({len(session.styles)} chosen)", "styles:done"),))
    text = say.PICK_STYLES.format(limit=config.max_styles)
    return Progress(STYLE_MENU_KEY, text, tuple(rows))


def size_question(config: CoreConfig) -> Reply:
    """Ask how many headshots per style."""
    row = tuple(Button(f"{size} per style", f"size:{size}") for size in config.pack_sizes)
    return Reply(say.ASK_PACK_SIZE, (row,))


def confirmation(session: Session, config: CoreConfig) -> Reply:
    """Summarise the order with a rough duration and the Start button."""
    titles = {style.id: style.title for style in config.styles}
    total = session.pack_size * len(session.styles)
    minutes = config.train_minutes + total * 1.5 * config.seconds_per_image / 60
    text = (
        f"Ready to make your pack:\n"
        f"• {len(session.selfies)} selfies of you ({session.subject})\n"
        f"• styles: {', '.join(titles.get(s, s) for s in session.styles)}\n"
        f"• {session.pack_size} headshots per style, {total} in all, the best of more candidates\n"
        f"• about {round(minutes)} minutes once a GPU picks it up; I'll keep you posted here.\n"
        "Your instant studio retouch arrives within seconds."
    )
    buttons = (
        (Button("Start", f"confirm:{session.request_id}"),),
        (Button("Change styles", "styles:again"),),
    )
    return Reply(text, buttons)
