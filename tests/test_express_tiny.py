"""The express tier on a tiny FLUX.2 klein model: real diffusers code, real face crops, CPU."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from engine.studio.express.render import (
    Batch,
    ExpressCancelledError,
    ExpressRender,
    RefCandidate,
    aspect_size,
    choose_references,
    fit_reference,
    pipeline_call,
    plan_batches,
    reference_sets,
    render_express,
)
from engine.studio.tiny import MARKER, is_tiny
from engine.studio.tiny_flux2 import TINY_TEXT, write_tiny_flux2_klein
from tests.photos import astronaut

TINY = ExpressRender(width_px=64, height_px=64, steps=4, batch=2, reference_px=64)


PROMPTS = ["the person in the reference photos, studio headshot, grey backdrop"] * 2


def never() -> bool:
    return False


def ignore(done: int, total: int) -> None:
    pass


@pytest.fixture(scope="module")
def klein_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)  # REFERENCE.md: two threads made the timings erratic
    return write_tiny_flux2_klein(tmp_path_factory.mktemp("klein") / "model")


@pytest.fixture(scope="module")
def klein(klein_dir: Path) -> Any:
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(
        str(klein_dir), dtype=torch.float32, local_files_only=True
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def faces() -> list[Image.Image]:
    """Two crops of the astronaut's face, a close one and a looser one."""
    photo = astronaut()
    return [photo.crop((150, 20, 310, 200)), photo.crop((130, 0, 330, 220))]


def test_tiny_folder_loads_as_the_real_pipeline_class(klein_dir: Path, klein: Any) -> None:
    assert type(klein).__name__ == "Flux2KleinPipeline"
    assert klein.config.is_distilled
    assert is_tiny(str(klein_dir)) and (klein_dir / MARKER).is_file()
    assert klein.text_encoder.config.num_hidden_layers == TINY_TEXT["num_hidden_layers"]
    size_kb = sum(f.stat().st_size for f in klein_dir.rglob("*") if f.is_file()) / 1024
    print(f"tiny FLUX.2 klein folder: {size_kb:.0f} KiB")


def test_tokenizer_renders_the_chat_template_with_thinking_off(klein: Any) -> None:
    text = klein.tokenizer.apply_chat_template(
        [{"role": "user", "content": "a headshot"}],
        tokenize=False,
        add_generation_prompt=True,
        enable_thinking=False,
    )
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert klein.tokenizer.decode(klein.tokenizer(text)["input_ids"]) == text


def test_renders_one_image_per_seed_with_face_references(
    klein: Any, faces: list[Image.Image]
) -> None:
    progress: list[tuple[int, int]] = []
    started = time.perf_counter()
    images = render_express(
        klein,
        faces,
        PROMPTS,
        [1, 2],
        TINY,
        on_progress=lambda *p: progress.append(p),
        should_stop=never,
    )
    print(f"tiny express render, 2 images, 2 references: {time.perf_counter() - started:.2f} s")
    assert [image.size for image in images] == [(64, 64), (64, 64)]
    assert progress == [(2, 2)]
    assert not np.array_equal(np.asarray(images[0]), np.asarray(images[1]))


def test_same_seed_renders_the_same_image(klein: Any, faces: list[Image.Image]) -> None:
    one = ExpressRender(width_px=64, height_px=64, batch=1, reference_px=64)
    first, second = render_express(
        klein, faces, PROMPTS, [7, 7], one, on_progress=ignore, should_stop=never
    )
    assert np.array_equal(np.asarray(first), np.asarray(second))


def test_references_change_the_image(klein: Any, faces: list[Image.Image]) -> None:
    def render(refs: list[Image.Image]) -> np.ndarray[Any, Any]:
        images = render_express(
            klein, refs, PROMPTS[:1], [3], TINY, on_progress=ignore, should_stop=never
        )
        return np.asarray(images[0])

    assert not np.array_equal(render(faces), render(faces[:1]))


def test_cancel_mid_render_raises_and_stops(klein: Any, faces: list[Image.Image]) -> None:
    polls: list[int] = []

    def should_stop() -> bool:
        polls.append(1)
        return len(polls) > 2  # the batch check, one step, then stop inside the pipeline

    progress: list[tuple[int, int]] = []
    with pytest.raises(ExpressCancelledError):
        render_express(
            klein,
            faces,
            PROMPTS * 2,
            [1, 2, 3, 4],
            TINY,
            on_progress=lambda *p: progress.append(p),
            should_stop=should_stop,
        )
    assert len(polls) == 3 and progress == []


def test_pipeline_call_uses_the_distilled_schedule() -> None:
    call = pipeline_call([], ["p", "q"], [5, 6], ExpressRender())
    assert (call["num_inference_steps"], call["guidance_scale"]) == (4, 1.0)
    assert (call["height"], call["width"], call["image"]) == (1024, 1024, None)
    assert [g.initial_seed() for g in call["generator"]] == [5, 6]


def test_fit_reference_keeps_sides_the_pipeline_accepts() -> None:
    fitted = fit_reference(Image.new("L", (600, 512)), 512)
    assert fitted.mode == "RGB" and fitted.size == (560, 480)
    assert fit_reference(Image.new("RGB", (70, 40)), 32).size == (64, 64)


def test_choose_references_prefers_quality_then_variety() -> None:
    frontal = RefCandidate(quality=0.9)
    twin = RefCandidate(quality=0.88)  # as good, but the same pose and light
    turned = RefCandidate(quality=0.8, yaw_deg=20.0)
    blurry = RefCandidate(quality=0.2, yaw_deg=-25.0, brightness=0.8)
    assert choose_references([twin, blurry, frontal, turned], 2) == [2, 3]
    assert choose_references([twin, blurry, frontal, turned], 3) == [2, 3, 0]
    assert choose_references([twin, frontal], 5) == [1, 0]
    assert choose_references([], 3) == [] and choose_references([frontal], 0) == []


def test_reference_sets_differ_and_together_use_every_chosen_selfie() -> None:
    assert reference_sets([4, 7, 9, 2, 5], 3) == [
        [4, 7, 9], [4, 2, 5], [7, 9, 2], [4, 7, 5], [9, 2, 5],
    ]  # fmt: skip
    assert reference_sets([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]
    # No more selfies than references per image: one set, never a reordering of it.
    assert reference_sets([4, 7, 9], 3) == [[4, 7, 9]]
    assert reference_sets([4, 7], 3) == [[4, 7]]
    assert reference_sets([], 2) == [[]] and reference_sets([3], 0) == [[]]


def test_a_style_renders_in_whole_batches_of_one_size_each_with_the_next_set() -> None:
    aspects = ["4:5", "1:1", "4:5", "1:1", "4:5", "1:1", "4:5", "1:1"]
    sets = [[0, 1], [2, 3], [4, 0]]
    assert plan_batches(aspects, sets, batch=4, first_set=2) == [
        Batch([4, 0], "4:5", [0, 2, 4, 6]),
        Batch([0, 1], "1:1", [1, 3, 5, 7]),
    ]
    assert [b.images for b in plan_batches(aspects[:5], sets, batch=2)] == [
        [0, 2], [4], [1, 3],
    ]  # fmt: skip


def test_a_four_by_five_shot_is_1024_by_1280() -> None:
    assert aspect_size("4:5", 1024) == (1024, 1280)
    assert aspect_size("1:1", 1024) == (1024, 1024)
    assert aspect_size("4:5", 64) == (64, 80)


def test_references_are_the_most_typical_of_the_best_faces() -> None:
    def face(quality: float, offset: float, yaw_deg: float = 0.0) -> RefCandidate:
        return RefCandidate(quality, yaw_deg=yaw_deg, descriptor=(offset,) + (0.0,) * 127)

    old_photo = face(0.95, 0.8)  # the sharpest, but the least like the person's other photos
    typical = face(0.85, 0.2)  # the centroid of the five lies at 0.25
    turned = face(0.8, 0.05, yaw_deg=20.0)
    blurry_twin = face(0.1, 0.2)  # as typical, but among the worst photos
    other = face(0.6, 0.0)
    chosen = choose_references([old_photo, typical, turned, blurry_twin, other], 3)
    assert chosen == [1, 2, 0]  # typical leads, turned adds variety; the worst photos are out
