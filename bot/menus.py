"""The menus the core shows: welcome, subject, styles, pack size and the confirmation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot import messages as say
from bot.events import Button, Progress, Reply
from bot.progress_text import about_text
from bot.session import Session, TierChoice
from engine.jobs import Tier, eta

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
    tiers: tuple[Tier, ...] = (Tier.STUDIO,)  # the backends this deployment's workers load
    # Seconds a pack of each tier takes once a worker picks it up, from the stage durations the
    # workers measured (engine.jobs.eta); the service refreshes them before each event.
    pack_eta_s: Mapping[Tier, float] = field(default_factory=dict)

    def offers(self, choice: TierChoice) -> bool:
        """Tell whether this deployment can make the pack `choice` names."""
        if choice is TierChoice.UPGRADE:
            return Tier.EXPRESS in self.tiers and Tier.STUDIO in self.tiers
        return Tier(choice.value) in self.tiers

    def eta_s(self, choice: TierChoice) -> float:
        """Return how long the pack `choice` names takes once a worker starts it."""
        tiers = (Tier.EXPRESS, Tier.STUDIO) if choice is TierChoice.UPGRADE else (Tier(choice),)
        return sum(self.pack_eta_s.get(tier, eta.default_pack_s(tier)) for tier in tiers)


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


def default_tier(config: CoreConfig) -> TierChoice:
    """Return the pack offered first: the upgrade when both backends run, else the one there is."""
    for choice in (TierChoice.UPGRADE, TierChoice.EXPRESS, TierChoice.STUDIO):
        if config.offers(choice):
            return choice
    return TierChoice.STUDIO


def tier_question(config: CoreConfig) -> Reply:
    """Ask how the pack is made, each choice with its time from the workers' measurements."""
    express = about_text(config.eta_s(TierChoice.EXPRESS))
    studio = about_text(config.eta_s(TierChoice.STUDIO))
    labels = {
        TierChoice.UPGRADE: "⚡+🎯 Both: express now, studio after (recommended)",
        TierChoice.EXPRESS: f"⚡ Express ({express})",
        TierChoice.STUDIO: f"🎯 Studio: a personal model, best likeness ({studio})",
    }
    offered = [(choice, label) for choice, label in labels.items() if config.offers(choice)]
    rows = tuple((Button(label, f"tier:{choice}"),) for choice, label in offered)
    return Reply(say.ask_tier(express, studio), rows)


def tier_line(session: Session, config: CoreConfig) -> str:
    """Return the confirmation's line on how the pack is made and how long it takes."""
    total = about_text(config.eta_s(session.tier))
    if session.tier is TierChoice.EXPRESS:
        return f"express: made from your selfies directly, {total} once a GPU picks it up"
    studio = about_text(config.eta_s(TierChoice.STUDIO))
    if session.tier is TierChoice.STUDIO:
        return f"studio: a personal model trained on your selfies, {studio} once a GPU picks it up"
    express = about_text(config.eta_s(TierChoice.EXPRESS))
    return (
        f"express first ({express} once a GPU picks it up), then the studio pack from a personal"
        f" model trained on your selfies ({studio} more)"
    )


def confirmation(session: Session, config: CoreConfig) -> Reply:
    """Summarise the order: tier, images, the measured duration, and the Start button."""
    titles = {style.id: style.title for style in config.styles}
    total = session.pack_size * len(session.styles)
    packs = "each pack" if session.tier is TierChoice.UPGRADE else "in all"
    text = (
        f"Ready to make your pack:\n"
        f"• {len(session.selfies)} selfies of you ({session.subject})\n"
        f"• styles: {', '.join(titles.get(s, s) for s in session.styles)}\n"
        f"• {session.pack_size} headshots per style, {total} {packs}, the best of more candidates\n"
        f"• {tier_line(session, config)}; I'll keep you posted here.\n"
        "Your instant studio retouch arrives within seconds."
    )
    buttons: tuple[tuple[Button, ...], ...] = (
        (Button("Start", f"confirm:{session.request_id}"),),
        (Button("Change styles", "styles:again"),),
    )
    if len(config.tiers) > 1:
        buttons += ((Button("Change express / studio", "tier:again"),),)
    return Reply(text, buttons)
