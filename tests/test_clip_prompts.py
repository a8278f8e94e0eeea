"""Prompts tokenized as production does: the real CLIP vocabulary, 77 tokens, no truncation."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from engine.jobs.contract import SUBJECTS
from engine.studio.clip_vocab import MAX_TOKENS, clip_tokenizer
from engine.studio.generation import RenderSettings, render_shots
from engine.studio.lora.backend import check_styles_fit
from engine.studio.lora.config import TrainConfig
from engine.studio.styles import PACKS_DIR, StyleError, load_styles
from engine.studio.styles.fit import longest_prompt
from tests.tiny_models import TINY_PX, load_tiny, tiny_model_dir

PERSONS = [TrainConfig().person(subject) for subject in SUBJECTS]


@pytest.fixture(scope="module")
def tiny_pipe(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_tiny(tiny_model_dir(tmp_path_factory, "sdxl"))


def _count(tokenizer: Any) -> Any:
    return lambda text: len(tokenizer(text).input_ids)


def test_the_vocabulary_is_clips_own() -> None:
    tokenizer = clip_tokenizer("<|endoftext|>")
    assert len(tokenizer) == 49408
    ids = tokenizer("85mm lens, ohwx woman").input_ids
    words = tokenizer.convert_ids_to_tokens(ids)
    assert words == [
        "<|startoftext|>", "8</w>", "5</w>", "mm</w>", "lens</w>", ",</w>", "ohwx</w>",
        "woman</w>", "<|endoftext|>",
    ]  # fmt: skip


def test_every_prompt_of_every_pack_fits_77_tokens() -> None:
    count = _count(clip_tokenizer("<|endoftext|>"))
    longest = {
        style.id: longest_prompt(style, PERSONS, count)[0] for style in load_styles().values()
    }
    assert set(longest) == {path.stem for path in PACKS_DIR.glob("*.toml")}
    assert all(tokens <= MAX_TOKENS for tokens in longest.values()), longest
    assert max(longest.values()) > 40  # counted with merges: a byte vocabulary would give 200+


def test_the_tiny_models_tokenize_as_the_real_vocabulary(tiny_pipe: Any) -> None:
    real = _count(clip_tokenizer("!"))
    prompts = [p for s in load_styles().values() for p in s.every_prompt(PERSONS[0])][::7]
    for tokenizer in (tiny_pipe.tokenizer, tiny_pipe.tokenizer_2):
        assert [_count(tokenizer)(p) for p in prompts] == [real(p) for p in prompts]


def _long_style(folder: Path) -> Path:
    # Digits are one BPE token each: "1234567890" is one word to the styles' cheap word count
    # but ten tokens to CLIP, so only the real tokenizer sees that this style does not fit.
    text = (PACKS_DIR / "medical.toml").read_text()
    digits = " ".join(["1234567890"] * 3)
    text = text.replace("outfits = [", f'outfits = ["a white coat with badge {digits}", ', 1)
    (folder / "medical.toml").write_text(text)
    return folder


def test_a_style_that_does_not_fit_stops_the_studio_naming_its_file(
    tiny_pipe: Any, tmp_path: Path
) -> None:
    styles = list(load_styles(_long_style(tmp_path)).values())  # passes the cheap word count
    with pytest.raises(StyleError, match=r"medical\.toml: a prompt takes \d+ tokens.* reads 77"):
        check_styles_fit(tiny_pipe, TrainConfig(), styles)
    check_styles_fit(tiny_pipe, TrainConfig())  # the shipped packs pass


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def diffusers_warnings() -> Iterator[_Records]:
    # diffusers' loggers do not propagate to the root logger, so caplog would see nothing.
    handler, logger = _Records(), logging.getLogger("diffusers")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_a_tiny_render_of_the_longest_prompt_logs_no_truncation(
    tiny_pipe: Any, diffusers_warnings: _Records
) -> None:
    count = _count(clip_tokenizer("<|endoftext|>"))
    style = max(load_styles().values(), key=lambda s: longest_prompt(s, PERSONS, count)[0])
    tokens, prompt = longest_prompt(style, PERSONS, count)
    shot = replace(style.shot(PERSONS[0], 0, 1), prompt=prompt)
    render = RenderSettings(TINY_PX, max_steps=1)
    render_shots(tiny_pipe, style, [shot], render, lambda: False)
    assert not [m for m in diffusers_warnings.messages if "truncated" in m], (tokens, prompt)
    # The same capture does see a prompt that is too long: the check above can fail.
    too_long = replace(shot, prompt=prompt + " 1234567890" * 4)
    render_shots(tiny_pipe, style, [too_long], render, lambda: False)
    assert [m for m in diffusers_warnings.messages if "truncated" in m]
