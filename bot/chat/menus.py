"""The menus the core shows: welcome, subject, styles, pack size and the confirmation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.chat.events import Button, Progress, Reply
from bot.chat.session import Session, TierChoice
from bot.text import messages as say
from bot.text.i18n import COMMAND_NAMES, N_, _, current, language_name, languages, t
from bot.text.progress import about_text
from engine.jobs import Tier, eta

SUBJECTS = ("man", "woman", "person")
STYLE_MENU_KEY = "styles"


@dataclass(frozen=True)
class StyleChoice:
    """A style pack as the person sees it: its words are English message ids, translated here."""

    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class CoreConfig:
    """What the core needs to know about the deployment."""

    policy: say.Policy
    styles: tuple[StyleChoice, ...]
    max_styles: int = 4
    pack_sizes: tuple[int, ...] = (4, 8, 12)
    tiers: tuple[Tier, ...] = (Tier.STUDIO,)  # the backends this deployment's workers load
    commands: tuple[str, ...] = COMMAND_NAMES  # the commands this platform has, for help
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


PER_STYLE = N_("{size} per style")


def button(data: str, **params: object) -> Button:
    """Return the button that sends `data`, labelled in the person's language."""
    return Button(t(say.BUTTONS[data], **params), data)


def welcome(config: CoreConfig, language: str = "") -> Reply:
    """Return the /start message with the consent button.

    Before consent nothing is stored, so a language picked then rides on the button.
    """
    consent = button("consent")
    if language:
        consent = Button(consent.label, f"consent:{language}")
    return Reply(say.welcome(config.policy), ((consent,),))


def language_menu() -> Reply:
    """Ask which language to write in; each is named in itself, the current one checked."""
    spoken = current().language
    rows = [
        (Button(f"{'✓ ' if code == spoken else ''}{language_name(code)}", f"language:{code}"),)
        for code in languages()
    ]
    return Reply(t(say.ASK_LANGUAGE), tuple(rows))


def subject_question() -> Reply:
    """Ask how prompts should describe the person."""
    row = tuple(Button(t(say.SUBJECTS[s]), f"subject:{s}") for s in SUBJECTS)
    return Reply(t(say.ASK_SUBJECT), (row,))


def style_menu(session: Session, config: CoreConfig) -> Progress:
    """Return the multi-select style keyboard, edited in place as the person picks."""
    rows, lines = [], []
    for style in config.styles:
        mark = "✓ " if style.id in session.styles else ""
        rows.append((Button(f"{mark}{_(style.title)}", f"style:{style.id}"),))
        if style.description:
            lines.append(t(say.STYLE_LINE, title=_(style.title), description=_(style.description)))
    rows.append((button("styles:done", count=len(session.styles)),))
    text = "\n\n".join([t(say.PICK_STYLES, limit=config.max_styles), "\n".join(lines)])
    return Progress(STYLE_MENU_KEY, text.strip(), tuple(rows))


def size_question(config: CoreConfig) -> Reply:
    """Ask how many headshots per style."""
    row = tuple(Button(t(PER_STYLE, size=size), f"size:{size}") for size in config.pack_sizes)
    return Reply(t(say.ASK_PACK_SIZE), (row,))


def default_tier(config: CoreConfig) -> TierChoice:
    """Return the pack offered first: the upgrade when both backends run, else the one there is."""
    for choice in (TierChoice.UPGRADE, TierChoice.EXPRESS, TierChoice.STUDIO):
        if config.offers(choice):
            return choice
    return TierChoice.STUDIO


TIER_BUTTONS = {
    TierChoice.UPGRADE: N_("⚡+🎯 Both: express now, studio after (recommended)"),
    TierChoice.EXPRESS: N_("⚡ Express ({express})"),
    TierChoice.STUDIO: N_("🎯 Studio: a personal model, best likeness ({studio})"),
}
TIER_LINES = {
    TierChoice.EXPRESS: N_(
        "express: made from your selfies directly, {express} once a GPU picks it up"
    ),
    TierChoice.STUDIO: N_(
        "studio: a personal model trained on your selfies, {studio} once a GPU picks it up"
    ),
    TierChoice.UPGRADE: N_(
        "express first ({express} once a GPU picks it up), then the studio pack from a personal"
        " model trained on your selfies ({studio} more)"
    ),
}


def _tier_times(config: CoreConfig) -> dict[str, str]:
    express = about_text(config.eta_s(TierChoice.EXPRESS))
    return {"express": express, "studio": about_text(config.eta_s(TierChoice.STUDIO))}


def tier_question(config: CoreConfig) -> Reply:
    """Ask how the pack is made, each choice with its time from the workers' measurements."""
    times = _tier_times(config)
    rows = tuple(
        (Button(t(label, **times), f"tier:{choice}"),)
        for choice, label in TIER_BUTTONS.items()
        if config.offers(choice)
    )
    return Reply(say.ask_tier(**times), rows)


def confirmation(session: Session, config: CoreConfig) -> Reply:
    """Summarise the order: tier, images, the measured duration, and the Start button."""
    titles = {style.id: style.title for style in config.styles}
    total = session.pack_size * len(session.styles)
    template = CONFIRM_BOTH if session.tier is TierChoice.UPGRADE else CONFIRM
    text = t(
        template,
        selfies=len(session.selfies),
        subject=t(say.SUBJECTS.get(session.subject, session.subject)).lower(),
        styles=", ".join(say.style_title(s, titles) for s in session.styles),
        per_style=session.pack_size,
        total=total,
        how=t(TIER_LINES[session.tier], **_tier_times(config)),
    )
    buttons: tuple[tuple[Button, ...], ...] = (
        (Button(t(say.BUTTONS["start"]), f"confirm:{session.request_id}"),),
        (button("styles:again"),),
    )
    if len(config.tiers) > 1:
        buttons += ((button("tier:again"),),)
    return Reply(text, buttons)


CONFIRM = N_(
    "Ready to make your pack:\n"
    "• {selfies} selfies of you ({subject})\n"
    "• styles: {styles}\n"
    "• {per_style} headshots per style, {total} in all, the best of more candidates\n"
    "• {how}; I'll keep you posted here.\n"
    "Your instant studio retouch arrives within seconds."
)
CONFIRM_BOTH = N_(
    "Ready to make your pack:\n"
    "• {selfies} selfies of you ({subject})\n"
    "• styles: {styles}\n"
    "• {per_style} headshots per style, {total} in each pack, the best of more candidates\n"
    "• {how}; I'll keep you posted here.\n"
    "Your instant studio retouch arrives within seconds."
)
