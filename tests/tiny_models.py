"""Tiny random-weight pipelines for tests, written once per session in diffusers' folder format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from engine.studio.tiny import Kind, write_tiny_model

TINY_PX = 64


def tiny_model_dir(factory: pytest.TempPathFactory, kind: Kind) -> Path:
    """Return the folder of the tiny `kind` model, building it on first use in this session."""
    torch.set_num_threads(1)  # REFERENCE.md: two threads made the timings erratic
    folder = factory.getbasetemp() / f"tiny-{kind}"
    if not (folder / "model_index.json").exists():
        write_tiny_model(folder, kind)
    return folder


def load_tiny(folder: Path, dtype: torch.dtype | None = None) -> Any:
    """Load the tiny model through the studio's own `from_pretrained` path, on the CPU.

    `dtype=torch.bfloat16` loads it as a GPU worker runs, for tests about dtypes.
    """
    from engine.studio.loading import load_pipeline

    torch.set_num_threads(1)
    return load_pipeline(str(folder), device="cpu", dtype=dtype)


def state_snapshot(*modules: Any) -> list[dict[str, torch.Tensor]]:
    """Return detached copies of every tensor of the modules, to compare bit for bit later."""
    return [{k: v.detach().clone() for k, v in m.state_dict().items()} for m in modules]


def same_state(before: list[dict[str, torch.Tensor]], *modules: Any) -> bool:
    """Tell whether the modules hold exactly the keys and values of the snapshot."""
    after = state_snapshot(*modules)
    return all(
        a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        for a, b in zip(before, after, strict=True)
    )
