"""Text conditioning for training: captions to the UNet's inputs, for SDXL and SD 1.5."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Conditioning:
    """What the UNet needs besides the noisy latents and the timestep."""

    hidden: torch.Tensor
    added: dict[str, torch.Tensor] | None  # SDXL's pooled text embeds and time ids

    def repeat(self, batch: int) -> Conditioning:
        """Return this conditioning repeated along the batch dimension."""
        added = None
        if self.added is not None:
            added = {k: v.repeat(batch, *([1] * (v.dim() - 1))) for k, v in self.added.items()}
        return Conditioning(self.hidden.repeat(batch, 1, 1), added)


def is_sdxl(pipe: Any) -> bool:
    """Tell whether `pipe` is an SDXL pipeline (two text encoders, pooled embeds)."""
    return getattr(pipe, "text_encoder_2", None) is not None


def encode(pipe: Any, caption: str, resolution: int) -> Conditioning:
    """Encode one caption the way the pipeline's own `encode_prompt` does, keeping gradients."""
    device = pipe.unet.device
    if not is_sdxl(pipe):
        ids = _ids(pipe.tokenizer, caption, device)
        return Conditioning(pipe.text_encoder(ids)[0], None)
    hidden_states = []
    pooled = torch.empty(0)
    for tokenizer, encoder in (
        (pipe.tokenizer, pipe.text_encoder),
        (pipe.tokenizer_2, pipe.text_encoder_2),
    ):
        out = encoder(_ids(tokenizer, caption, device), output_hidden_states=True)
        hidden_states.append(out.hidden_states[-2])
        pooled = out[0]  # the projected pooled output of text_encoder_2, the last one
    hidden = torch.cat(hidden_states, dim=-1)
    added = {"text_embeds": pooled, "time_ids": time_ids(resolution, device, hidden.dtype)}
    return Conditioning(hidden, added)


def time_ids(resolution: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Return SDXL's micro-conditioning: original size, crop origin (0, 0), target size."""
    values = [resolution, resolution, 0, 0, resolution, resolution]
    return torch.tensor([values], device=device, dtype=dtype)


def _ids(tokenizer: Any, caption: str, device: torch.device) -> torch.Tensor:
    tokens = tokenizer(
        caption,
        padding="max_length",
        max_length=tokenizer.model_max_length,
        truncation=True,
        return_tensors="pt",
    )
    ids: torch.Tensor = tokens.input_ids.to(device)
    return ids
