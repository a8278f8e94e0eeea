"""Tiny random-weight SDXL and SD 1.5 pipelines in diffusers' folder format, built from configs.

They load through the same `from_pretrained` path a real model takes, so tests and smoke runs
exercise the real code on a machine without a GPU or a download. The CLIP tokenizers use the real
CLIP vocabulary (`engine.studio.clip_vocab`), so prompts tokenize as on a production model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from engine.studio.clip_vocab import clip_tokenizer

Kind = Literal["sdxl", "sd15"]
MARKER = "headshots-tiny.txt"  # tells the studio its images are noise: no faces to select on

_SCHEDULER: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "steps_offset": 1,
    "timestep_spacing": "leading",
}
_TEXT: dict[str, Any] = {
    # The ids of the real vocabulary's <|startoftext|> and <|endoftext|>: the text model pools
    # its output at the end token.
    "bos_token_id": 49406,
    "eos_token_id": 49407,
    "pad_token_id": 49407,
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_attention_heads": 4,
    "num_hidden_layers": 3,
    "vocab_size": 49408,
    "hidden_act": "gelu",
    "projection_dim": 32,
    "max_position_embeddings": 77,
}


def write_tiny_model(folder: Path, kind: Kind = "sdxl", seed: int = 0) -> Path:
    """Build a tiny random-weight pipeline of `kind` and save it under `folder`; return it."""
    import torch

    torch.manual_seed(seed)
    pipe = _build_sdxl() if kind == "sdxl" else _build_sd15()
    folder.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(str(folder))
    (folder / MARKER).write_text("random weights for smoke tests; images have no faces\n")
    return folder


def is_tiny(model: str) -> bool:
    """Tell whether `model` is a folder written by `write_tiny_model`."""
    return (Path(model) / MARKER).is_file()


def _build_sdxl() -> Any:
    from diffusers import StableDiffusionXLPipeline
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    unet = _unet(
        cross_attention_dim=64,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=6 * 8 + 32,
        transformer_layers_per_block=(1, 2),
    )
    return _construct(
        StableDiffusionXLPipeline,
        vae=_vae(),
        text_encoder=CLIPTextModel(CLIPTextConfig(**_TEXT)),
        text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**_TEXT)),
        tokenizer=clip_tokenizer(pad="<|endoftext|>"),
        tokenizer_2=clip_tokenizer(pad="!"),
        unet=unet,
        scheduler=_scheduler(),
        force_zeros_for_empty_prompt=True,
    )


def _build_sd15() -> Any:
    from diffusers import StableDiffusionPipeline
    from transformers import CLIPTextConfig, CLIPTextModel

    return _construct(
        StableDiffusionPipeline,
        vae=_vae(),
        text_encoder=CLIPTextModel(CLIPTextConfig(**_TEXT)),
        tokenizer=clip_tokenizer(pad="<|endoftext|>"),
        unet=_unet(cross_attention_dim=32),
        scheduler=_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def _unet(**extra: Any) -> Any:
    from diffusers import UNet2DConditionModel

    return _construct(
        UNet2DConditionModel,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(32, 64),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        norm_num_groups=32,
        **extra,
    )


def _vae() -> Any:
    from diffusers import AutoencoderKL

    return _construct(
        AutoencoderKL,
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 16, 16),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=128,
    )


def _scheduler() -> Any:
    from diffusers import EulerDiscreteScheduler

    return _construct(EulerDiscreteScheduler, **_SCHEDULER)


def _construct(cls: Any, **kwargs: Any) -> Any:
    """Call a diffusers constructor, which `register_to_config` leaves untyped."""
    return cls(**kwargs)
