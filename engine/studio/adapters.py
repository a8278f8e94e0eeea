"""Named LoRA adapters on the shared base pipeline: added per job, removed after, never fused.

A worker may hold one resident adapter (the few-step acceleration LoRA, loaded once); each job's
adapter (the person's, or the one being trained) is added beside it and deleted again. Peft's
wrapper layers are dropped only from components left with no adapter at all, so the resident one
survives every job and a component the job alone touched (a text encoder) is back to its
original modules.
"""

from __future__ import annotations

import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def lora_adapter(pipe: Any, lora: bytes, name: str | None = None) -> Iterator[str]:
    """Load `lora` as a fresh named adapter; delete it (and its peft layers) on exit."""
    name = name or f"job-{uuid.uuid4().hex[:12]}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "lora.safetensors").write_bytes(lora)
            with beside_resident():
                pipe.load_lora_weights(tmp, weight_name="lora.safetensors", adapter_name=name)
        yield name
    finally:
        remove_adapter(pipe, name)


def loaded_adapters(pipe: Any) -> set[str]:
    """Return the names of every adapter loaded in any of the pipeline's components."""
    return {n for names in pipe.get_list_adapters().values() for n in names}


def remove_adapter(pipe: Any, name: str) -> None:
    """Delete the adapter if it is loaded; unwrap every component left with no adapter."""
    if name in loaded_adapters(pipe):
        with beside_resident():
            pipe.delete_adapters(name)
    remaining = pipe.get_list_adapters()
    for component in pipe._lora_loadable_modules:
        model = getattr(pipe, component, None)
        if model is not None and not remaining.get(component):
            _unwrap(model)


def _unwrap(model: Any) -> None:
    """Drop peft's wrapper layers as `unload_lora_weights` does, for this one component."""
    from diffusers import ModelMixin
    from diffusers.loaders import lora_base

    if isinstance(model, ModelMixin):
        model.unload_lora()  # type: ignore[attr-defined]  # PeftAdapterMixin's, untyped
    else:
        remove: Any = lora_base._remove_text_encoder_monkey_patch  # untyped in diffusers
        remove(model)


@contextmanager
def beside_resident() -> Iterator[None]:
    """Silence peft's warnings about a second adapter: beside the resident one is the design."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Already found a `peft_config`", UserWarning)
        warnings.filterwarnings(
            "ignore", r"Adapter .* was active which is now deleted", UserWarning
        )
        yield


@contextmanager
def base_model_only(pipe: Any) -> Iterator[None]:
    """Render with every loaded adapter switched off (class images must come from the base)."""
    if not loaded_adapters(pipe):
        yield
        return
    pipe.disable_lora()
    try:
        yield
    finally:
        pipe.enable_lora()
