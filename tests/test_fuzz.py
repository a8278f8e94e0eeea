"""Fuzzing with hypothesis: the conversation core under random event sequences, and the photo
decoder under random and mangled files. No exception escapes; no state is corrupted."""

from __future__ import annotations

import contextlib
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.chat.conversation import (
    CheckedPhoto,
    CheckedPhotos,
    CoreEvent,
    StartPack,
    accepts_photos,
    decide,
)
from bot.chat.events import Command, Press, Reply, Text, Unsupported
from bot.chat.menus import CoreConfig, StyleChoice
from bot.chat.session import Selfie, Session, Stage, TierChoice
from bot.text.messages import Policy
from core.errors import HeadshotsError
from engine.jobs import Tier
from engine.quality import DEFAULT_THRESHOLDS
from engine.quality.decode import decode
from engine.quality.report import FaceRecord, Verdict

POLICY = Policy(
    min_selfies=2, max_selfies=4, recommended_selfies=3, results_days=7,
    selfies_hours_after_delivery=24, abandoned_hours=48, max_upload_bytes=20_000_000,
)  # fmt: skip
CONFIG = CoreConfig(
    policy=POLICY,
    styles=(StyleChoice("grey", "Grey"), StyleChoice("city", "City")),
    max_styles=1,
    tiers=(Tier.EXPRESS, Tier.STUDIO),
)
COMMANDS = ["start", "help", "status", "done", "cancel", "delete", "new", "privacy", "nope"]
PRESSES = ["consent", "subject:man", "subject:robot", "continue", "style:grey", "style:city",
           "style:x", "styles:done", "styles:again", "size:4", "size:8", "size:5", "confirm:",
           "cancel:yes", "cancel:no", "delete:yes", "delete:no", "files:", "garbage",
           "tier:express", "tier:studio", "tier:upgrade", "tier:again", "tier:gold"]  # fmt: skip


ORDERING = {Stage.STYLES, Stage.PACK_SIZE, Stage.TIER, Stage.CONFIRM, Stage.RUNNING}


def _photos(n: int, good: int) -> CheckedPhotos:
    items = []
    for i in range(n):
        label = f"photo {i}"
        face = FaceRecord(label, (0.0,), "0", 0.5)
        selfie = Selfie(label, f"k{i}", f"f{i}", Verdict.ACCEPTED, face) if i < good else None
        items.append(
            CheckedPhoto(label, Verdict.ACCEPTED if selfie else Verdict.REJECTED, "ok", selfie)
        )
    return CheckedPhotos(tuple(items))


events = st.one_of(
    st.builds(Command, st.sampled_from(COMMANDS)),
    st.builds(Press, st.sampled_from(PRESSES)),
    st.builds(Text, st.text(max_size=20)),
    st.builds(Unsupported, st.sampled_from(["sticker", "video", "too_large", "photo_set_full"])),
    st.builds(_photos, st.integers(1, 5), st.integers(0, 5)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=40))
def test_random_conversations_keep_their_invariants(sequence: list[CoreEvent]) -> None:
    session: Session | None = None
    for drawn in sequence:
        event = _as_the_service_sends(drawn, session)
        step = decide(session, event, CONFIG)
        session = step.session
        assert step.effects or step.actions, f"{event} got no answer"
        assert all(not isinstance(e, Reply) or e.text for e in step.effects)
        if session is not None:
            assert len(session.selfies) <= POLICY.max_selfies
            assert len(session.styles) <= CONFIG.max_styles
            assert Session.from_dict(session.to_dict()) == session
            if session.stage in ORDERING:
                assert len(session.selfies) >= POLICY.min_selfies or session.stage is Stage.RUNNING
            if session.upgrade_pending:  # armed only by starting an upgrade, until it ends
                assert session.stage is Stage.RUNNING and session.tier is TierChoice.UPGRADE
        if StartPack() in step.actions:
            assert session is not None
            assert session.stage is Stage.RUNNING
            assert session.styles
            assert session.pack_size in CONFIG.pack_sizes


def _as_the_service_sends(event: CoreEvent, session: Session | None) -> CoreEvent:
    """Complete buttons that carry ids, and refuse photos the way the service does."""
    if isinstance(event, Press) and event.data in {"confirm:", "files:"} and session:
        return Press(event.data + (session.request_id or session.job_id))
    if isinstance(event, CheckedPhotos) and not accepts_photos(session, CONFIG):
        return Unsupported("photo_not_now" if session else "photo_before_consent")
    return event


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


JPEG = _jpeg()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash_the_decoder(data: bytes) -> None:
    with contextlib.suppress(HeadshotsError):  # a refusal with a reason code is the answer
        decode(data, DEFAULT_THRESHOLDS)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(JPEG) - 1), st.integers(0, 255)), max_size=12),
       st.integers(1, len(JPEG)))  # fmt: skip
def test_mangled_jpegs_never_crash_the_decoder(flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(JPEG)
    for position, value in flips:
        data[position] = value
    with contextlib.suppress(HeadshotsError):
        decode(bytes(data[:cut]), DEFAULT_THRESHOLDS)
