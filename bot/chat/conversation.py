"""The conversation core: one pure transition from (session, event) to (session, effects, actions).

It performs no I/O. Photos arrive already checked by the quality gate (`CheckedPhotos`); anything
that touches the queue or storage is returned as an `Action` for the service to carry out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from bot.chat.contact_sheet import SHEET_VERBS, SheetPress
from bot.chat.events import Command, Effect, Press, Progress, Reply, Text, Unsupported
from bot.chat.menus import (
    SUBJECTS,
    CoreConfig,
    button,
    confirmation,
    default_tier,
    language_menu,
    size_question,
    style_menu,
    subject_question,
    tier_question,
    welcome,
)
from bot.chat.session import Selfie, Session, Stage, TierChoice
from bot.text import messages as say
from bot.text.i18n import catalog_for, current, speaking, t
from engine.quality.report import Verdict


@dataclass(frozen=True)
class CheckedPhoto:
    """A photo after the quality gate; `selfie` is set when it was accepted and stored."""

    label: str
    verdict: Verdict
    summary: str
    selfie: Selfie | None


@dataclass(frozen=True)
class CheckedPhotos:
    """One photo, or an album, after the gate: answered with one consolidated reply."""

    photos: tuple[CheckedPhoto, ...]
    hints: tuple[str, ...] = ()  # how the set could be more varied, once it is big enough
    # Who the set is about after these photos, when the gate decided it: (the person's selfies,
    # those set aside). None: the accepted photos are simply added to the set.
    grouping: tuple[tuple[Selfie, ...], tuple[Selfie, ...]] | None = None
    notes: tuple[str, ...] = ()  # earlier photos set aside, or counted again


@dataclass(frozen=True)
class StartPack:
    """Queue the pack the session describes."""


@dataclass(frozen=True)
class CancelPack:
    """Stop the session's queued or running pack."""


@dataclass(frozen=True)
class FetchFiles:
    """Fetch a delivered job's full-resolution files; the service checks the job is theirs."""

    job_id: str


@dataclass(frozen=True)
class ShowStatus:
    """Tell the live state of the running pack (the worker's, not the session's)."""


@dataclass(frozen=True)
class EraseEverything:
    """Delete everything stored about the person."""


@dataclass(frozen=True)
class DropSelfies:
    """Delete the stored selfies of a set the person started over."""


Action = (
    StartPack | CancelPack | FetchFiles | ShowStatus | EraseEverything | DropSelfies | SheetPress
)
"""Work with side effects that the core asks the service to carry out."""


CoreEvent = Text | Command | Unsupported | Press | CheckedPhotos


@dataclass(frozen=True)
class Step:
    """The core's answer: the new session (None: keep nothing), effects, and actions."""

    session: Session | None
    effects: tuple[Effect, ...] = ()
    actions: tuple[Action, ...] = ()


def accepts_photos(session: Session | None, config: CoreConfig) -> bool:
    """Return whether a photo now should go through the gate and be stored."""
    return (
        session is not None
        and session.stage is Stage.CAPTURE
        and len(session.selfies) < config.policy.max_selfies
    )


def decide(session: Session | None, event: CoreEvent, config: CoreConfig) -> Step:
    """Return what to do about `event` in `session`."""
    if isinstance(event, Press) and event.data.startswith("language:"):
        return _language_chosen(session, event.data.partition(":")[2], config)
    if isinstance(event, Command):
        return _command(session, event, config)
    if session is None:
        return _before_consent(event, config)
    if isinstance(event, Press):
        return _press(session, event.data, config)
    if isinstance(event, CheckedPhotos):
        return _photos(session, event, config)
    if isinstance(event, Unsupported):
        return _unsupported(session, event, config)
    return _text(session, config)


# ----- before consent ----------------------------------------------------------------------


def _before_consent(event: CoreEvent, config: CoreConfig) -> Step:
    if isinstance(event, Press) and event.data.partition(":")[0] == "consent":
        return _consented(event.data.partition(":")[2])
    if isinstance(event, Press) and event.data.partition(":")[0] in SHEET_VERBS:
        return Step(None, (Reply(t(say.SHEET_GONE)),))  # a contact sheet from before a /delete
    if isinstance(event, Unsupported) and event.kind == "photo_before_consent":
        return Step(None, (Reply(t(say.CONSENT_FIRST)),))
    return Step(None, (welcome(config),))


def _consented(language: str) -> Step:
    """Start the conversation, in the language picked before consent if there was one."""
    chosen = catalog_for(language) if language else None
    if chosen is None:
        return Step(Session(), (subject_question(),))
    with speaking(chosen, current().command_prefix):
        return Step(Session(chosen_language=chosen), (subject_question(),))


# ----- the person's language ---------------------------------------------------------------


def _language_command(session: Session | None, args: str, config: CoreConfig) -> Step:
    """Switch at once to a language named after the command ("/language de"), else ask."""
    if catalog_for(args) is None:
        return Step(session, (language_menu(),))
    return _language_chosen(session, args, config)


def _language_chosen(session: Session | None, value: str, config: CoreConfig) -> Step:
    """Speak `value` from now on: kept in the session, or carried by the consent button."""
    chosen = catalog_for(value)
    if chosen is None:  # forged or from a catalog since removed
        return Step(session, (language_menu(),))
    with speaking(chosen, current().command_prefix):
        if session is None:  # nothing is stored before consent
            return Step(None, (welcome(config, chosen),))
        moved = session.with_(chosen_language=chosen)
        return Step(moved, (Reply(t(say.LANGUAGE_CHOSEN)), _prompt_for(moved, config)))


# ----- commands ----------------------------------------------------------------------------


def _command(session: Session | None, command: Command, config: CoreConfig) -> Step:
    name = command.name
    if name == "help":
        return Step(session, (Reply(say.help_text(config.commands)),))
    if name == "privacy":
        return Step(session, (Reply(say.privacy(config.policy)),))
    if name == "language":
        return _language_command(session, command.args, config)
    if session is None:
        return Step(None, (welcome(config),))
    handlers = {
        "start": _where_you_are,
        "status": _status,
        "done": _finish_capture,
        "cancel": _ask_cancel,
        "delete": _ask_delete,
        "new": _new_set,
    }
    handler = handlers.get(name)
    if handler is None:
        return Step(session, (Reply(say.unknown_command(name, config.commands)),))
    return handler(session, config)


def _where_you_are(session: Session, config: CoreConfig) -> Step:
    return Step(session, (_prompt_for(session, config),))


def _status(session: Session, config: CoreConfig) -> Step:
    if session.stage in {Stage.RUNNING, Stage.DONE} and session.job_id:
        return Step(session, (), (ShowStatus(),))  # the live state is the worker's
    return _where_you_are(session, config)


def _prompt_for(session: Session, config: CoreConfig) -> Effect:
    stage = session.stage
    if stage is Stage.SUBJECT:
        return subject_question()
    if stage is Stage.CAPTURE:
        return _count_reply(session, config, say.capture_guide(config.policy))
    if stage is Stage.STYLES:
        return style_menu(session, config)
    if stage is Stage.PACK_SIZE:
        return size_question(config)
    if stage is Stage.TIER:
        return tier_question(config)
    if stage is Stage.CONFIRM:
        return confirmation(session, config)
    if stage is Stage.RUNNING:
        return Reply(t(say.JOB_ALREADY_RUNNING))
    return Reply(t(say.LAST_PACK_FINISHED))


def _finish_capture(session: Session, config: CoreConfig) -> Step:
    if session.stage is not Stage.CAPTURE:
        return _where_you_are(session, config)
    missing = config.policy.min_selfies - len(session.selfies)
    if missing > 0:
        return Step(session, (Reply(say.not_enough_yet(missing)),))
    moved = session.with_(stage=Stage.STYLES)
    return Step(moved, (style_menu(moved, config),))


def _ask_cancel(session: Session, config: CoreConfig) -> Step:
    if session.stage is not Stage.RUNNING:
        return Step(session, (Reply(t(say.NOTHING_RUNNING)),))
    buttons = ((button("cancel:yes"), button("cancel:no")),)
    return Step(session.with_(pending="cancel"), (Reply(t(say.ASK_CANCEL), buttons),))


def _ask_delete(session: Session, config: CoreConfig) -> Step:
    buttons = ((button("delete:yes"), button("delete:no")),)
    return Step(session.with_(pending="delete"), (Reply(t(say.ASK_DELETE), buttons),))


def _new_set(session: Session, config: CoreConfig) -> Step:
    if session.stage is Stage.RUNNING:
        return Step(session, (Reply(t(say.JOB_ALREADY_RUNNING)),))
    fresh = Session(stage=Stage.CAPTURE, subject=session.subject) if session.subject else Session()
    prompt = _prompt_for(fresh, config)
    return Step(fresh, (prompt,), (DropSelfies(),))


# ----- button presses ----------------------------------------------------------------------


def _press(session: Session, data: str, config: CoreConfig) -> Step:
    verb, _sep, value = data.partition(":")
    step = _menu_press(session, verb, value, config) or _order_press(session, verb, value)
    if step is not None:
        return step
    prompt = _prompt_for(session, config)
    if isinstance(prompt, Progress):  # an in-place menu, already on screen: point at it
        return Step(session, (Reply(t(say.MENU_ABOVE)),))
    return Step(session, (Reply(t(say.BUTTON_EXPIRED)), prompt))


def _menu_press(session: Session, verb: str, value: str, config: CoreConfig) -> Step | None:
    """Answer the buttons that shape the order, from the subject to the tier."""
    stage = session.stage
    if verb == "subject" and stage is Stage.SUBJECT and value in SUBJECTS:
        moved = session.with_(stage=Stage.CAPTURE, subject=value)
        return Step(moved, (Reply(say.capture_guide(config.policy)),))
    if verb == "continue" and stage is Stage.CAPTURE:
        return _finish_capture(session, config)
    if verb == "style" and stage is Stage.STYLES:
        return _toggle_style(session, value, config)
    if verb == "styles" and value == "done" and stage is Stage.STYLES:
        return _styles_done(session, config)
    if verb == "styles" and value == "again" and stage is Stage.CONFIRM:
        moved = session.with_(stage=Stage.STYLES)
        return Step(moved, (style_menu(moved, config),))
    if verb == "size" and stage is Stage.PACK_SIZE and value in map(str, config.pack_sizes):
        return _size_chosen(session.with_(pack_size=int(value)), config)
    if verb == "tier" and stage is Stage.TIER and value in set(TierChoice):
        return _tier_chosen(session, TierChoice(value), config)
    if verb == "tier" and value == "again" and stage is Stage.CONFIRM and len(config.tiers) > 1:
        return Step(session.with_(stage=Stage.TIER), (tier_question(config),))
    return None


def _order_press(session: Session, verb: str, value: str) -> Step | None:
    """Answer the buttons that act on the order: start, files, cancel, delete."""
    stage = session.stage
    if verb == "confirm" and stage is Stage.CONFIRM and value == session.request_id:
        upgrade = session.tier is TierChoice.UPGRADE
        started = session.with_(stage=Stage.RUNNING, upgrade_pending=upgrade)
        return Step(started, (), (StartPack(),))
    if verb == "confirm" and stage is Stage.RUNNING and value == session.request_id:
        return Step(session, (Reply(t(say.JOB_ALREADY_RUNNING)),))  # a double tap
    if verb == "files" and value:
        # Not only the session's job: a re-roll since then must not strand the pack's offer.
        return Step(session, (), (FetchFiles(value),))
    if verb in {"cancel", "delete"} and session.pending == verb:
        return _confirm_destructive(session, verb, value == "yes")
    if verb in SHEET_VERBS and value:
        return Step(session, (), (SheetPress(verb, value),))  # checked against the job's owner
    return None


def _confirm_destructive(session: Session, verb: str, yes: bool) -> Step:
    cleared = session.with_(pending="")
    if not yes:
        return Step(cleared, (Reply(t(say.CANCEL_KEPT)),))
    if verb == "delete":
        return Step(None, (), (EraseEverything(),))
    stopped = cleared.with_(stage=Stage.DONE, upgrade_pending=False)  # no studio pack after it
    return Step(stopped, (), (CancelPack(),))


def _toggle_style(session: Session, style_id: str, config: CoreConfig) -> Step:
    known = {style.id for style in config.styles}
    if style_id not in known:
        return Step(session, (style_menu(session, config),))
    if style_id in session.styles:
        chosen = tuple(s for s in session.styles if s != style_id)
    elif len(session.styles) >= config.max_styles:
        return Step(session, (Reply(t(say.STYLE_LIMIT, limit=config.max_styles)),))
    else:
        chosen = (*session.styles, style_id)
    moved = session.with_(styles=chosen)
    return Step(moved, (style_menu(moved, config),))


def _size_chosen(session: Session, config: CoreConfig) -> Step:
    if len(config.tiers) > 1:
        moved = session.with_(stage=Stage.TIER)
        return Step(moved, (tier_question(config),))
    return _tier_chosen(session, default_tier(config), config)


def _tier_chosen(session: Session, tier: TierChoice, config: CoreConfig) -> Step:
    if not config.offers(tier):
        return Step(session, (tier_question(config),))
    moved = session.with_(stage=Stage.CONFIRM, tier=tier, request_id=_nonce())
    return Step(moved, (confirmation(moved, config),))


def _styles_done(session: Session, config: CoreConfig) -> Step:
    if not session.styles:
        return Step(session, (Reply(t(say.PICK_AT_LEAST_ONE_STYLE)),))
    moved = session.with_(stage=Stage.PACK_SIZE)
    return Step(moved, (size_question(config),))


# ----- photos, other messages ----------------------------------------------------------------


def _photos(session: Session, event: CheckedPhotos, config: CoreConfig) -> Step:
    selfies, aside = _grouped(session, event)
    most = config.policy.max_selfies
    overflow = tuple(s for s in selfies[most:] if s in _new_selfies(event))
    moved = session.with_(
        received=session.received + len(event.photos), selfies=selfies[:most], set_aside=aside
    )
    lines = [say.verdict_line(p.label, p.verdict, p.summary) for p in event.photos]
    lines += event.notes
    lines += [say.not_kept_overflow(s.label) for s in overflow]
    lines += [say.tip(hint) for hint in event.hints]
    return Step(moved, (_count_reply(moved, config, "\n".join(lines)),))


def _grouped(
    session: Session, event: CheckedPhotos
) -> tuple[tuple[Selfie, ...], tuple[Selfie, ...]]:
    """Return the set's selfies and set-aside photos after `event`."""
    if event.grouping is not None:
        return event.grouping
    return (*session.selfies, *_new_selfies(event)), session.set_aside


def _new_selfies(event: CheckedPhotos) -> tuple[Selfie, ...]:
    return tuple(p.selfie for p in event.photos if p.selfie is not None)


def _count_reply(session: Session, config: CoreConfig, head: str) -> Reply:
    accepted = len(session.selfies)
    text = f"{head}\n\n{say.count_line(accepted, config.policy)}"
    if accepted < config.policy.min_selfies:
        return Reply(text)
    return Reply(text, ((button("continue"),),))


def _unsupported(session: Session, event: Unsupported, config: CoreConfig) -> Step:
    if event.kind == "photo_set_full":
        return Step(session, (Reply(t(say.SET_FULL), ((button("continue"),),)),))
    if event.kind == "photo_not_now":
        return Step(session, (Reply(t(say.NOT_COLLECTING)), _prompt_for(session, config)))
    if event.kind == "too_large":
        text = say.too_large(event.size_bytes, config.policy.max_upload_bytes)
        return Step(session, (Reply(text),))
    text = t(say.UNSUPPORTED.get(event.kind, say.UNSUPPORTED["document"]))
    return Step(session, (Reply(text),))


def _text(session: Session, config: CoreConfig) -> Step:
    if session.stage is Stage.CAPTURE:
        return Step(session, (Reply(t(say.TEXT_DURING_CAPTURE)),))
    return Step(session, (_prompt_for(session, config),))


def _nonce() -> str:
    return uuid.uuid4().hex[:16]
