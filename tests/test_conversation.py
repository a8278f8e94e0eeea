"""The pure conversation core, driven event by event (no I/O, no platform)."""

from __future__ import annotations

import pytest

from bot.chat.conversation import (
    CancelPack,
    CheckedPhoto,
    CheckedPhotos,
    CoreEvent,
    DropSelfies,
    EraseEverything,
    ShowStatus,
    StartPack,
    Step,
    accepts_photos,
    decide,
)
from bot.chat.events import Command, Press, Progress, Reply, Text, Unsupported
from bot.chat.menus import CoreConfig, StyleChoice
from bot.chat.session import Selfie, Session, Stage
from bot.text.i18n import speaking
from bot.text.messages import Policy
from engine.quality.report import FaceRecord, Verdict
from engine.studio.styles import list_styles

POLICY = Policy(
    min_selfies=3, max_selfies=5, recommended_selfies=4, results_days=7,
    selfies_hours_after_delivery=24, abandoned_hours=48, max_upload_bytes=20_000_000,
)  # fmt: skip
CONFIG = CoreConfig(
    policy=POLICY,
    styles=(
        StyleChoice("grey", "Corporate grey"),
        StyleChoice("city", "Outdoor city"),
        StyleChoice("bw", "Black and white"),
    ),
    max_styles=2,
)


def _selfie(n: int) -> Selfie:
    face = FaceRecord(f"photo {n}", (0.1,) * 4, "abc", 0.9)
    return Selfie(f"photo {n}", f"k/{n}", f"f{n}", Verdict.ACCEPTED, face)


def _good(n: int) -> CheckedPhoto:
    return CheckedPhoto(f"photo {n}", Verdict.ACCEPTED, "sharp, well lit.", _selfie(n))


def _bad(n: int) -> CheckedPhoto:
    return CheckedPhoto(f"photo {n}", Verdict.REJECTED, "too blurry: hold still.", None)


def _texts(step: Step) -> list[str]:
    return [e.text for e in step.effects if isinstance(e, Reply | Progress)]


def _buttons(step: Step) -> list[str]:
    return [
        b.data
        for e in step.effects
        if isinstance(e, Reply | Progress)
        for r in e.buttons
        for b in r
    ]


def _run(session: Session | None, *events: CoreEvent) -> Step:
    step = Step(session)
    for event in events:
        step = decide(step.session, event, CONFIG)
    return step


def test_start_stores_nothing_before_consent() -> None:
    step = decide(None, Command("start"), CONFIG)
    assert step.session is None
    assert "Privacy" in _texts(step)[0]
    assert "24 h" in _texts(step)[0]
    assert _buttons(step) == ["consent"]


def test_photo_before_consent_asks_for_consent() -> None:
    step = decide(None, Unsupported("photo_before_consent"), CONFIG)
    assert step.session is None
    assert "I agree" in _texts(step)[0]


def test_full_journey_to_start_action() -> None:
    step = _run(None, Press("consent"))
    assert step.session == Session(stage=Stage.SUBJECT)
    step = _run(step.session, Press("subject:woman"))
    assert step.session is not None and step.session.stage is Stage.CAPTURE
    assert "Checklist" in _texts(step)[0]

    step = _run(step.session, CheckedPhotos((_good(1), _bad(2))))
    assert step.session is not None
    assert step.session.received == 2
    assert len(step.session.selfies) == 1
    text = _texts(step)[0]
    assert "✅ Photo 1: sharp" in text
    assert "❌ Photo 2: too blurry" in text
    assert "1 good photo so far; 2 more to start, 4 for the best pack." in text
    assert "continue" not in _buttons(step)

    step = _run(step.session, CheckedPhotos((_good(3), _good(4))))
    assert "continue" in _buttons(step)
    step = _run(step.session, Press("continue"))
    assert step.session is not None and step.session.stage is Stage.STYLES
    assert _buttons(step) == ["style:grey", "style:city", "style:bw", "styles:done"]

    step = _run(step.session, Press("style:grey"), Press("style:bw"), Press("style:city"))
    assert "up to 2 styles" in _texts(step)[0]
    step = _run(step.session, Press("style:bw"), Press("style:city"), Press("styles:done"))
    assert step.session is not None and step.session.styles == ("grey", "city")
    step = _run(step.session, Press("size:8"))
    session = step.session
    assert session is not None and session.stage is Stage.CONFIRM and session.pack_size == 8
    assert "16 in all" in _texts(step)[0]
    confirm = f"confirm:{session.request_id}"
    assert confirm in _buttons(step)

    step = _run(session, Press(confirm))
    assert step.actions == (StartPack(),)
    assert step.session is not None and step.session.stage is Stage.RUNNING
    again = _run(step.session, Press(confirm))
    assert again.actions == ()  # a double tap enqueues nothing more
    assert "already" in _texts(again)[0]


def test_done_needs_enough_selfies() -> None:
    session = Session(stage=Stage.CAPTURE, subject="man", selfies=(_selfie(1),))
    step = decide(session, Command("done"), CONFIG)
    assert step.session == session
    assert "2 more" in _texts(step)[0]


def test_set_never_exceeds_the_maximum() -> None:
    session = Session(
        stage=Stage.CAPTURE, subject="man", selfies=tuple(_selfie(n) for n in range(4))
    )
    assert accepts_photos(session, CONFIG)
    step = decide(session, CheckedPhotos((_good(5), _good(6))), CONFIG)
    assert step.session is not None and len(step.session.selfies) == 5
    assert not accepts_photos(step.session, CONFIG)
    assert "Photo 6: not kept, the set is full" in _texts(step)[0]
    full = decide(step.session, Unsupported("photo_set_full"), CONFIG)
    assert "maximum" in _texts(full)[0]


def test_stale_and_forged_buttons_change_nothing() -> None:
    session = Session(
        stage=Stage.CONFIRM, subject="man", styles=("grey",), pack_size=4, request_id="r1"
    )
    for data in ["confirm:forged", "subject:robot", "size:4", "style:nope", "delete:yes", "zzz"]:
        step = decide(session, Press(data), CONFIG)
        assert step.session == session, data
        assert step.actions == ()


def test_delete_asks_first_then_erases() -> None:
    session = Session(stage=Stage.CAPTURE, subject="man")
    asked = decide(session, Command("delete"), CONFIG)
    assert asked.session is not None and asked.session.pending == "delete"
    declined = decide(asked.session, Press("delete:no"), CONFIG)
    assert declined.session == session and declined.actions == ()
    erased = decide(asked.session, Press("delete:yes"), CONFIG)
    assert erased.session is None
    assert erased.actions == (EraseEverything(),)


def test_cancel_only_when_running() -> None:
    idle = Session(stage=Stage.CAPTURE, subject="man")
    assert "Nothing is running" in _texts(decide(idle, Command("cancel"), CONFIG))[0]
    running = Session(stage=Stage.RUNNING, subject="man", job_id="j1")
    asked = decide(running, Command("cancel"), CONFIG)
    step = decide(asked.session, Press("cancel:yes"), CONFIG)
    assert step.actions == (CancelPack(),)
    assert step.session is not None and step.session.stage is Stage.DONE


@pytest.mark.parametrize("kind", ["sticker", "voice", "video", "animation", "document"])
def test_unsupported_inputs_get_a_friendly_answer(kind: str) -> None:
    session = Session(stage=Stage.CAPTURE, subject="man")
    step = decide(session, Unsupported(kind), CONFIG)
    assert step.session == session
    assert _texts(step) and "Traceback" not in _texts(step)[0]


def test_too_large_file_names_the_limit() -> None:
    session = Session(stage=Stage.CAPTURE, subject="man")
    step = decide(session, Unsupported("too_large", size_bytes=30_000_000), CONFIG)
    assert "30 MB is more than I can download (20 MB)" in _texts(step)[0]


def test_text_during_capture_asks_for_photos() -> None:
    session = Session(stage=Stage.CAPTURE, subject="man")
    assert "waiting for selfies" in _texts(decide(session, Text("hello"), CONFIG))[0]


def test_new_set_keeps_subject_and_drops_selfies() -> None:
    session = Session(stage=Stage.DONE, subject="woman", selfies=(_selfie(1),), received=1)
    step = decide(session, Command("new"), CONFIG)
    assert step.session == Session(stage=Stage.CAPTURE, subject="woman")
    assert step.actions == (DropSelfies(),)


def test_variety_hints_follow_the_verdicts() -> None:
    session = Session(stage=Stage.CAPTURE, subject="man", selfies=(_selfie(1), _selfie(2)))
    hint = "All your photos face the camera straight on: add a few turned slightly."
    step = decide(session, CheckedPhotos((_good(3),), (hint,)), CONFIG)
    assert f"Tip: {hint}" in _texts(step)[0]


def test_status_while_running_asks_the_worker_side() -> None:
    running = Session(stage=Stage.RUNNING, subject="man", job_id="j1")
    assert decide(running, Command("status"), CONFIG).actions == (ShowStatus(),)
    capture = Session(stage=Stage.CAPTURE, subject="man")
    assert decide(capture, Command("status"), CONFIG).actions == ()


def test_session_roundtrips_through_json() -> None:
    session = Session(stage=Stage.CONFIRM, subject="man", selfies=(_selfie(1),), styles=("grey",))
    assert Session.from_dict(session.to_dict()) == session


def test_privacy_lists_everything_kept_and_for_how_long() -> None:
    from bot.text.messages import privacy

    text = privacy(POLICY)
    for kept in ("selfies", "face model", "headshots", "record", "progress history",
                 "conversation", "face descriptor", "pack count", "data/console/"):  # fmt: skip
        assert kept in text, kept
    assert "nothing else" not in text
    assert "24 h" in text and "7 days" in text and "48 h" in text
    assert "3 packs a day" in text and "Cancelled packs count" in text


def test_a_double_tap_on_continue_points_at_the_menu_on_screen() -> None:
    session = Session(
        stage=Stage.CAPTURE, subject="man", selfies=tuple(_selfie(n) for n in range(3))
    )
    first = decide(session, Press("continue"), CONFIG)
    assert first.session is not None and first.session.stage is Stage.STYLES
    again = decide(first.session, Press("continue"), CONFIG)
    assert again.session == first.session
    assert _texts(again) == [
        "That button is from an earlier step; the menu above is where you are now."
    ]


def test_the_gates_grouping_replaces_the_set_and_its_notes_are_shown() -> None:
    stranger, person = _selfie(1), (_selfie(2), _selfie(3))
    session = Session(stage=Stage.CAPTURE, subject="man", selfies=(stranger,), set_aside=person[:1])
    note = "Photo 1 doesn't look like the other 2, so I've set it aside. Send only photos of you."
    event = CheckedPhotos((CheckedPhoto("photo 3", Verdict.ACCEPTED, "Great.", person[1]),),
                          grouping=(person, (stranger,)), notes=(note,))  # fmt: skip
    step = decide(session, event, CONFIG)
    assert step.session is not None
    assert step.session.selfies == person and step.session.set_aside == (stranger,)
    assert note in _texts(step)[0] and "2 good photos so far" in _texts(step)[0]
    assert Session.from_dict(step.session.to_dict()) == step.session


# ----- the person's language ---------------------------------------------------------------


def test_language_offers_every_catalog_each_named_in_itself() -> None:
    step = _run(None, Command("language"))
    assert step.session is None  # nothing stored before consent
    assert _buttons(step) == [f"language:{code}" for code in ("en", "de", "es", "fr", "pt_BR")]
    labels = [b.label for e in step.effects if isinstance(e, Reply) for r in e.buttons for b in r]
    assert labels == ["✓ English", "Deutsch", "Español", "Français", "Português (Brasil)"]


def test_a_language_picked_before_consent_rides_on_the_consent_button() -> None:
    step = _run(None, Command("language"), Press("language:fr"))
    assert step.session is None
    assert _texts(step)[0].startswith("Salut !")
    assert _buttons(step) == ["consent:fr"]
    consented = _run(None, Press("consent:fr"))
    assert consented.session is not None and consented.session.chosen_language == "fr"
    assert _texts(consented) == ["Comment les images doivent-elles te décrire ?"]


def test_a_language_picked_later_is_kept_and_answers_at_once() -> None:
    session = Session(stage=Stage.CAPTURE, subject="woman")
    step = _run(session, Press("language:pt_BR"))
    assert step.session is not None and step.session.chosen_language == "pt_BR"
    assert _texts(step)[0] == "Combinado, a partir de agora escrevo em português."
    assert "Agora me mande" in _texts(step)[1]  # where they are, in the new language
    typed = _run(session, Command("language", "de"))  # "/language de": no buttons needed
    assert typed.session is not None and typed.session.chosen_language == "de"


def test_an_unknown_or_forged_language_shows_the_choice() -> None:
    session = Session(stage=Stage.CAPTURE, subject="woman")
    for event in (Command("language", "klingon"), Press("language:xx")):
        step = _run(session, event)
        assert step.session == session
        assert _buttons(step)[0] == "language:en"
    assert _buttons(_run(None, Press("consent:xx"))) == [
        "subject:man",
        "subject:woman",
        "subject:person",
    ]


def test_style_menu_shows_each_styles_description_in_the_persons_language() -> None:
    city = next(style for style in list_styles() if style.id == "outdoor-city")
    config = CoreConfig(POLICY, (StyleChoice(city.id, city.title, city.description),))
    session = Session(stage=Stage.CAPTURE, subject="woman", selfies=tuple(map(_selfie, (1, 2, 3))))
    with speaking("de"):
        step = decide(session, Command("done"), config)
    menu = step.effects[0]
    assert isinstance(menu, Progress)
    assert "• Draußen in der Stadt: Straßenporträt in einer modernen Stadt" in menu.text
    assert menu.buttons[0][0].label == "Draußen in der Stadt"
