"""Style packs: data files (TOML) with prompts, variants and sampler settings, validated on load.

Light on purpose: the bot imports `list_styles` to show the menu, so nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from core.errors import HeadshotsError

PACKS_DIR = Path(__file__).parent / "packs"
ASPECTS = {"1:1": (1, 1), "4:5": (4, 5)}
SCHEDULERS = (
    "euler", "euler_a", "dpmpp_2m", "dpmpp_2m_karras", "ddim", "ddim_trailing", "euler_trailing",
)  # fmt: skip
_ID = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
_FIELDS = {"outfit": "outfits", "background": "backgrounds", "light": "lights"}
# CLIP reads 77 tokens, BPE splits some words: 60 words and marks keeps every prompt whole. A
# cheap check the bot can run; the worker counts the real tokens at start (styles/fit.py).
MAX_PROMPT_PIECES = 60
_PIECE = re.compile(r"\w+|[^\w\s]")


class StyleError(HeadshotsError):
    """A style file is malformed or a style id is unknown."""


# FLUX.2 klein's hosted services cap references at 4-5; each costs as many tokens as its pixels.
MAX_EXPRESS_REFERENCES = 4


@dataclass(frozen=True)
class StyleInfo:
    """What a person sees of a style in the menu."""

    id: str
    title: str
    description: str


@dataclass(frozen=True)
class Sampler:
    """How the images of a style are rendered."""

    scheduler: str
    steps: int
    guidance_scale: float
    lora_scale: float
    # Renders with the worker's acceleration LoRA (if it has one) at its few-step recipe; false
    # keeps this style at its own steps, e.g. where the fast sampler loses its look.
    accelerate: bool = True


@dataclass(frozen=True)
class Express:
    """How the express tier renders a style: an edit-style prompt about the reference photos."""

    prompt: str  # names the person as {person}: "the woman in the reference photos"
    steps: int
    guidance_scale: float
    references: int  # reference selfies given to each image


@dataclass(frozen=True)
class Finish:
    """What post-processing a style's images get whatever the model drew."""

    monochrome: bool = False  # black and white: colour the model left in is removed


@dataclass(frozen=True)
class Shot:
    """One image to render: the filled prompt, its aspect ratio and its seed."""

    style_id: str
    prompt: str
    negative_prompt: str
    aspect: str
    seed: int

    def size(self, base_px: int) -> tuple[int, int]:
        """Return (width, height) for a model whose square side is `base_px`, multiples of 16."""
        wide, tall = ASPECTS[self.aspect]
        if wide == tall:
            return base_px, base_px
        width = _round16(base_px * 0.875)  # 4:5 at about the square's pixel count
        return width, _round16(width * tall / wide)


@dataclass(frozen=True)
class Style:
    """A validated style pack."""

    info: StyleInfo
    prompt: str
    negative_prompt: str
    outfits: tuple[str, ...]
    backgrounds: tuple[str, ...]
    lights: tuple[str, ...]
    aspects: tuple[str, ...]
    sampler: Sampler
    express: Express
    finish: Finish = Finish()

    @property
    def id(self) -> str:
        """Return the style's id."""
        return self.info.id

    def shot(self, person: str, index: int, job_seed: int, *, express: bool = False) -> Shot:
        """Return the `index`-th image of this style for `person` (e.g. `ohwx man`).

        `express` fills the express tier's prompt instead, with the same outfit, background and
        light for the same index.
        """
        seed = image_seed(job_seed, self.id, index)
        pick = random.Random(seed)
        template = self.express.prompt if express else self.prompt
        # Drawn in this order (outfit, background, light) so a seed keeps its prompt.
        variant = tuple(pick.choice(values) for values in self._variants())
        prompt = _fill(template, person, variant)
        aspect = self.aspects[index % len(self.aspects)]
        return Shot(self.id, prompt, self.negative_prompt, aspect, seed)

    def variation(self, person: str, near_seed: int, index: int, *, express: bool = False) -> Shot:
        """Return the `index`-th variation of the image whose seed is `near_seed`.

        The first pick of `Random(near_seed)` is the image's own outfit, background and light
        (see `shot`); a variation keeps the outfit and background, takes a nearby seed, and
        re-picks the light on every other image: close to the image, never a copy of it.
        """
        seed = (near_seed + index + 1) & 0x7FFFFFFF
        pick = random.Random(near_seed)
        outfit, background, light = (pick.choice(self.outfits), pick.choice(self.backgrounds),
                                     pick.choice(self.lights))  # fmt: skip
        if index % 2:
            light = random.Random(seed).choice(self.lights)
        template = self.express.prompt if express else self.prompt
        prompt = template.format(person=person, outfit=outfit, background=background, light=light)
        return Shot(self.id, prompt, self.negative_prompt, self.aspects[0], seed)

    def shots(
        self, person: str, count: int, job_seed: int, near_seed: int | None, *, express: bool
    ) -> list[Shot]:
        """Return the order's `count` shots of this style: fresh ones, or variations of one."""
        if near_seed is None:
            return [self.shot(person, i, job_seed, express=express) for i in range(count)]
        return [self.variation(person, near_seed, i, express=express) for i in range(count)]

    def every_prompt(self, person: str) -> Iterator[str]:
        """Yield the studio prompt filled with every outfit, background and light for `person`."""
        for variant in itertools.product(*self._variants()):
            yield _fill(self.prompt, person, variant)

    def _variants(self) -> tuple[tuple[str, ...], ...]:
        return self.outfits, self.backgrounds, self.lights


def _fill(template: str, person: str, variant: tuple[str, ...]) -> str:
    outfit, background, light = variant
    return template.format(person=person, outfit=outfit, background=background, light=light)


def image_seed(job_seed: int, style_id: str, index: int) -> int:
    """Return a stable per-image seed, independent of the other styles in the order."""
    digest = hashlib.sha256(f"{job_seed}:{style_id}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def list_styles() -> list[StyleInfo]:
    """Return every style's id, title and description, in menu order."""
    return [style.info for style in load_styles().values()]


def get_style(style_id: str) -> Style:
    """Return the style with this id, or raise StyleError."""
    styles = load_styles()
    if style_id not in styles:
        raise StyleError(f"unknown style {style_id!r}; known: {', '.join(styles)}")
    return styles[style_id]


@cache
def load_styles(folder: Path = PACKS_DIR) -> dict[str, Style]:
    """Read and validate every `*.toml` in `folder`, ordered by each file's `order`."""
    parsed = []
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            parsed.append((int(data.get("order", 1000)), parse_style(data, path.stem)))
        except (tomllib.TOMLDecodeError, ValueError, TypeError) as exc:
            raise StyleError(f"{path.name}: {exc}") from None
    if not parsed:
        raise StyleError(f"no style files in {folder}")
    return {style.id: style for _, style in sorted(parsed, key=lambda item: item[0])}


def parse_style(data: dict[str, Any], file_id: str) -> Style:
    """Validate one style file's data; raise ValueError naming the first problem."""
    style_id = _text(data, "id", 32)
    if style_id != file_id or not _ID.match(style_id):
        raise ValueError(f"id {style_id!r} must match the file name and be a lowercase slug")
    prompt = _text(data, "prompt", 600)
    if "{person}" not in prompt:
        raise ValueError("prompt must contain {person}")
    variants = {field: _variants(data, field, prompt) for field in _FIELDS}
    longest = len(_PIECE.findall(re.sub(r"\{\w+\}", "", prompt))) + 3  # + "ohwx person"
    longest += sum(max(len(_PIECE.findall(v)) for v in values) for values in variants.values())
    if longest > MAX_PROMPT_PIECES:
        raise ValueError(
            f"the longest filled prompt has {longest} words and marks; keep it to "
            f"{MAX_PROMPT_PIECES} so CLIP's 77 tokens hold all of it"
        )
    return Style(
        info=StyleInfo(style_id, _text(data, "title", 32), _text(data, "description", 140)),
        prompt=prompt,
        negative_prompt=_text(data, "negative_prompt", 600),
        outfits=variants["outfit"],
        backgrounds=variants["background"],
        lights=variants["light"],
        aspects=_aspects(data),
        sampler=_sampler(data.get("sampler")),
        express=_express(data.get("express")),
        finish=_finish(data.get("finish", {})),
    )


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValueError(f"{key} must be a non-empty string of at most {limit} characters")
    return value.strip()


def _variants(data: dict[str, Any], field: str, prompt: str) -> tuple[str, ...]:
    key = _FIELDS[field]
    values = data.get(key)
    if not isinstance(values, list) or not values:
        raise ValueError(f"{key} must be a non-empty list")
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise ValueError(f"{key} must hold non-empty strings")
    if "{" + field + "}" not in prompt:
        raise ValueError(f"prompt must contain {{{field}}} to use {key}")
    return tuple(v.strip() for v in values)


def _aspects(data: dict[str, Any]) -> tuple[str, ...]:
    aspects = data.get("aspect_ratios")
    if not isinstance(aspects, list) or not aspects or not set(aspects) <= set(ASPECTS):
        raise ValueError(f"aspect_ratios must be a non-empty list of {sorted(ASPECTS)}")
    return tuple(aspects)


def _sampler(data: Any) -> Sampler:
    if not isinstance(data, dict):
        raise ValueError("a [sampler] table is required")
    sampler = Sampler(
        scheduler=str(data.get("scheduler")),
        steps=int(data.get("steps", 0)),
        guidance_scale=float(data.get("guidance_scale", -1)),
        lora_scale=float(data.get("lora_scale", 1.0)),
        accelerate=data.get("accelerate", True),
    )
    if not isinstance(sampler.accelerate, bool):
        raise ValueError("sampler.accelerate must be true or false")
    if sampler.scheduler not in SCHEDULERS:
        raise ValueError(f"sampler.scheduler must be one of {', '.join(SCHEDULERS)}")
    if not 1 <= sampler.steps <= 100:
        raise ValueError("sampler.steps must be between 1 and 100")
    if not 0 <= sampler.guidance_scale <= 20:
        raise ValueError("sampler.guidance_scale must be between 0 and 20")
    if not 0 < sampler.lora_scale <= 1.5:
        raise ValueError("sampler.lora_scale must be in (0, 1.5]")
    return sampler


def _express(data: Any) -> Express:
    if not isinstance(data, dict):
        raise ValueError("an [express] table is required (the express tier's prompt and steps)")
    prompt = _text(data, "prompt", 900)
    for field in ("person", *_FIELDS):
        if "{" + field + "}" not in prompt:
            raise ValueError(f"express.prompt must contain {{{field}}}")
    express = Express(
        prompt=prompt,
        steps=int(data.get("steps", 0)),
        guidance_scale=float(data.get("guidance_scale", -1)),
        references=int(data.get("references", 0)),
    )
    if not 1 <= express.steps <= 50:
        raise ValueError("express.steps must be between 1 and 50")
    if not 0 <= express.guidance_scale <= 10:
        raise ValueError("express.guidance_scale must be between 0 and 10")
    if not 1 <= express.references <= MAX_EXPRESS_REFERENCES:
        raise ValueError(f"express.references must be between 1 and {MAX_EXPRESS_REFERENCES}")
    return express


def _finish(data: Any) -> Finish:
    if not isinstance(data, dict) or not set(data) <= {"monochrome"}:
        raise ValueError("[finish] may only hold monochrome = true or false")
    monochrome = data.get("monochrome", False)
    if not isinstance(monochrome, bool):
        raise ValueError("finish.monochrome must be true or false")
    return Finish(monochrome=monochrome)


def _round16(value: float) -> int:
    return max(16, round(value / 16) * 16)
