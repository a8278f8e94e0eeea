"""Choosing the tier in the chat: the question, the confirmation and the upgrade's two packs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.chat.conversation import CancelPack, StartPack, Step, decide
from bot.chat.events import Command, Press, Reply
from bot.chat.menus import CoreConfig, StyleChoice
from bot.chat.session import Selfie, Session, Stage, TierChoice
from bot.text.messages import Policy
from engine.jobs import Tier
from engine.quality.report import FaceRecord, Verdict

POLICY = Policy(
    min_selfies=3, max_selfies=5, recommended_selfies=4, results_days=7,
    selfies_hours_after_delivery=24, abandoned_hours=48, max_upload_bytes=20_000_000,
)  # fmt: skip
BOTH = CoreConfig(
    policy=POLICY,
    styles=(StyleChoice("grey", "Corporate grey"), StyleChoice("city", "Outdoor city")),
    tiers=(Tier.EXPRESS, Tier.STUDIO),
    pack_eta_s={Tier.EXPRESS: 50.0, Tier.STUDIO: 13 * 60.0},  # as measured by the workers
)
SELFIES = tuple(
    Selfie(f"photo {n}", f"k/{n}", f"f{n}", Verdict.ACCEPTED, FaceRecord(f"photo {n}", (), "", 0.8))
    for n in range(3)
)
SIZED = Session(stage=Stage.PACK_SIZE, subject="woman", selfies=SELFIES, styles=("grey", "city"))


def _text(step: Step) -> str:
    return "\n".join(e.text for e in step.effects if isinstance(e, Reply))


def _buttons(step: Step) -> dict[str, str]:
    return {
        b.data: b.label for e in step.effects if isinstance(e, Reply) for r in e.buttons for b in r
    }


def test_with_both_backends_the_person_chooses_with_measured_times() -> None:
    step = decide(SIZED, Press("size:4"), BOTH)
    assert step.session is not None and step.session.stage is Stage.TIER
    buttons = _buttons(step)
    assert list(buttons) == ["tier:upgrade", "tier:express", "tier:studio"]
    assert "recommended" in buttons["tier:upgrade"]  # the default when both backends run
    assert "about a minute" in buttons["tier:express"]
    assert "about 13 minutes" in buttons["tier:studio"]  # the measurement, not a constant
    slower = replace(BOTH, pack_eta_s={Tier.EXPRESS: 50.0, Tier.STUDIO: 31 * 60.0})
    assert "about 31 minutes" in _buttons(decide(SIZED, Press("size:4"), slower))["tier:studio"]


@pytest.mark.parametrize(
    ("choice", "says"),
    [
        ("express", ["express: made from your selfies directly", "about a minute"]),
        ("studio", ["studio: a personal model", "about 13 minutes"]),
        ("upgrade", ["express first (about a minute", "studio pack", "about 13 minutes more"]),
    ],
)
def test_the_confirmation_says_the_tier_the_images_and_the_time(
    choice: str, says: list[str]
) -> None:
    asked = decide(SIZED, Press("size:4"), BOTH)
    step = decide(asked.session, Press(f"tier:{choice}"), BOTH)
    assert step.session is not None and step.session.stage is Stage.CONFIRM
    assert step.session.tier is TierChoice(choice)
    text = _text(step)
    assert "8 " in text  # 4 per style, 2 styles
    for words in says:
        assert words in text, (words, text)
    assert "tier:again" in _buttons(step)


def test_one_backend_skips_the_question_and_names_its_tier() -> None:
    express_only = replace(BOTH, tiers=(Tier.EXPRESS,))
    step = decide(SIZED, Press("size:4"), express_only)
    assert step.session is not None and step.session.stage is Stage.CONFIRM
    assert step.session.tier is TierChoice.EXPRESS
    assert "express: made from your selfies" in _text(step)
    assert not any(data.startswith("tier:") for data in _buttons(step))
    studio_only = replace(BOTH, tiers=(Tier.STUDIO,))
    step = decide(SIZED, Press("size:4"), studio_only)
    assert step.session is not None and step.session.tier is TierChoice.STUDIO


def test_a_tier_the_host_does_not_run_cannot_be_pressed() -> None:
    asked = decide(SIZED, Press("size:4"), BOTH)
    studio_only = replace(BOTH, tiers=(Tier.STUDIO, Tier.STUDIO))  # express turned off since
    step = decide(asked.session, Press("tier:express"), studio_only)
    assert step.session is not None and step.session.stage is Stage.TIER
    assert "tier:express" not in _buttons(step)


def test_starting_an_upgrade_arms_the_studio_pack_and_cancel_disarms_it() -> None:
    asked = decide(SIZED, Press("size:4"), BOTH)
    confirm = decide(asked.session, Press("tier:upgrade"), BOTH)
    assert confirm.session is not None
    started = decide(confirm.session, Press(f"confirm:{confirm.session.request_id}"), BOTH)
    assert started.session is not None and started.session.upgrade_pending
    assert started.actions == (StartPack(),)
    running = started.session.with_(job_id="pack-express")
    asked_cancel = decide(running, Command("cancel"), BOTH)
    cancelled = decide(asked_cancel.session, Press("cancel:yes"), BOTH)
    assert cancelled.session is not None and not cancelled.session.upgrade_pending
    assert cancelled.actions == (CancelPack(),)


def test_the_tier_survives_the_stored_form() -> None:
    session = SIZED.with_(tier=TierChoice.UPGRADE, upgrade_pending=True)
    assert Session.from_dict(session.to_dict()) == session
