"""Style packs: the files validate, bad data is refused, every style renders on the tiny model."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from engine.studio.generation import RenderSettings, generate_pack
from engine.studio.lora.training import TrainConfig, train_lora
from engine.studio.styles import (
    PACKS_DIR,
    StyleError,
    get_style,
    list_styles,
    load_styles,
    parse_style,
)
from tests import photos
from tests.tiny_models import TINY_PX, load_tiny, tiny_model_dir

ROOT = Path(__file__).resolve().parent.parent
GOOD: dict[str, Any] = {
    "id": "good",
    "title": "Good",
    "description": "A style for tests.",
    "prompt": "photo of {person} in {outfit}, {background}, {light}",
    "negative_prompt": "blurry",
    "outfits": ["a suit"],
    "backgrounds": ["grey"],
    "lights": ["soft light"],
    "aspect_ratios": ["1:1", "4:5"],
    "sampler": {"scheduler": "euler", "steps": 20, "guidance_scale": 5.0, "lora_scale": 0.9},
    "express": {
        "prompt": "a new photo of {person} in {outfit}, {background}, {light}",
        "steps": 4,
        "guidance_scale": 1.0,
        "references": 3,
    },
}


def test_at_least_eight_styles_with_short_titles() -> None:
    styles = list_styles()
    assert len(styles) >= 8
    assert len({s.id for s in styles}) == len(styles)
    assert all(0 < len(s.title) <= 32 and s.description for s in styles)
    assert {s.id for s in styles} == set(load_styles())
    assert len(list(PACKS_DIR.glob("*.toml"))) == len(styles)


def test_list_styles_imports_no_heavy_library() -> None:
    code = "import sys, engine.studio.styles as s; s.list_styles(); print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"prompt": "photo of a person in {outfit}, {background}, {light}"}, "{person}"),
        ({"prompt": "photo of {person}, {background}, {light}"}, "{outfit}"),
        ({"outfits": []}, "outfits"),
        ({"aspect_ratios": ["16:9"]}, "aspect_ratios"),
        ({"id": "other"}, "file name"),
        ({"title": "x" * 40}, "title"),
        ({"sampler": {**GOOD["sampler"], "scheduler": "magic"}}, "scheduler"),
        ({"sampler": {**GOOD["sampler"], "steps": 0}}, "steps"),
        ({"sampler": {**GOOD["sampler"], "lora_scale": 3}}, "lora_scale"),
        ({"sampler": {**GOOD["sampler"], "accelerate": "no"}}, "sampler.accelerate"),
        ({"outfits": ["a suit " + "with many details, " * 15]}, "77 tokens"),
        ({"express": None}, "the express tier.s prompt"),
        ({"express": {**GOOD["express"], "prompt": "a photo in {outfit}"}}, "express.prompt"),
        ({"express": {**GOOD["express"], "steps": 0}}, "express.steps"),
        ({"express": {**GOOD["express"], "references": 9}}, "express.references"),
    ],
)
def test_bad_style_data_is_refused(change: dict[str, Any], problem: str) -> None:
    parse_style(GOOD, "good")
    with pytest.raises(ValueError, match=problem.replace("{", r"\{").replace("}", r"\}")):
        parse_style({**GOOD, **change}, "good")


def test_a_style_is_accelerated_unless_it_opts_out() -> None:
    assert parse_style(GOOD, "good").sampler.accelerate
    sampler = {**GOOD["sampler"], "accelerate": False, "scheduler": "ddim_trailing"}
    parsed = parse_style({**GOOD, "sampler": sampler}, "good").sampler
    assert (parsed.accelerate, parsed.scheduler) == (False, "ddim_trailing")


def test_a_bad_express_field_names_the_file_and_the_field(tmp_path: Path) -> None:
    good = (PACKS_DIR / "medical.toml").read_text()
    (tmp_path / "medical.toml").write_text(good.replace("references = 3", "references = 0"))
    with pytest.raises(StyleError, match=r"medical\.toml: express\.references"):
        load_styles(tmp_path)


def test_express_shots_name_the_reference_photos_and_keep_the_variants() -> None:
    style = get_style("corporate-grey")
    person = "the man in the reference photos"
    studio, express = style.shot("ohwx man", 3, 42), style.shot(person, 3, 42, express=True)
    assert person in express.prompt and "ohwx" not in express.prompt
    assert (studio.seed, studio.aspect) == (express.seed, express.aspect)
    outfit = next(o for o in style.outfits if o in studio.prompt)
    assert outfit in express.prompt  # the same index wears the same outfit in both tiers


def test_bad_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text('id = "broken"\ntitle = ')
    with pytest.raises(StyleError, match=r"broken\.toml"):
        load_styles(tmp_path)
    with pytest.raises(StyleError, match="unknown style"):
        get_style("no-such-style")


def test_shots_are_deterministic_and_vary() -> None:
    style = get_style("corporate-grey")
    shots = [style.shot("ohwx man", i, 42) for i in range(6)]
    assert shots == [style.shot("ohwx man", i, 42) for i in range(6)]
    assert len({s.seed for s in shots}) == 6
    assert len({s.prompt for s in shots}) > 1
    assert {s.aspect for s in shots} == {"1:1", "4:5"}
    assert all("ohwx man" in s.prompt and "{" not in s.prompt for s in shots)
    assert shots[0].size(1024) == (896, 1120) and shots[1].size(1024) == (1024, 1024)


def test_every_style_renders_on_the_tiny_model(tmp_path_factory: pytest.TempPathFactory) -> None:
    pipe = load_tiny(tiny_model_dir(tmp_path_factory, "sdxl"))
    config = TrainConfig(resolution=TINY_PX, min_steps=1, max_steps=1, mixed_precision="no")
    lora = train_lora(
        pipe,
        [photos.astronaut()],
        config,
        subject="woman",
        on_progress=lambda done, total: None,
        should_stop=lambda: False,
    ).lora
    styles = list(load_styles().values())
    progress: list[int] = []
    images = generate_pack(
        pipe,
        lora,
        styles,
        person="ohwx woman",
        images_per_style=1,
        seed=3,
        render=RenderSettings(TINY_PX, max_steps=2),
        on_progress=lambda done, total: progress.append(done),
        should_stop=lambda: False,
    )
    assert [i.style_id for i in images] == [s.id for s in styles]
    assert progress == list(range(1, len(styles) + 1))
    for image, style in zip(images, styles, strict=True):
        with Image.open(io.BytesIO(image.png)) as png:
            assert png.size == style.shot("ohwx woman", 0, 3).size(TINY_PX)
