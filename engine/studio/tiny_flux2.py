"""A tiny random-weight FLUX.2 [klein] pipeline in diffusers' folder format, built from configs.

It has the real model's component classes and wiring (the Qwen3 text encoder read at hidden layers
9, 18 and 27, the 2x2-patched 32-to-4-channel latents, the batch-norm latent statistics, the
distilled flag), only narrow, so the express tier runs its real diffusers code path on a CPU. The
Qwen2 tokenizer is written locally: the 256 byte symbols, Qwen's chat specials, no merges, and a
chat template that renders prompts the way Qwen3's own does with thinking switched off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.studio.tiny import MARKER

# Flux2KleinPipeline stacks the text encoder's hidden states 9, 18 and 27 by default, so the tiny
# encoder needs 27 layers for the default call to work; narrow layers keep that cheap.
TEXT_LAYERS = (9, 18, 27)
_TEXT_WIDTH = 16
_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>")

# Qwen3's template reduced to what Flux2KleinPipeline asks of it: one user turn, the generation
# prompt, and the empty think block that `enable_thinking=False` adds.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% if enable_thinking is defined and enable_thinking is false %}"
    "{{ '<think>\\n\\n</think>\\n\\n' }}{% endif %}{% endif %}"
)

# FLUX.1's and FLUX.2 [dev]'s published scheduler_config.json; the klein repository's own file
# could not be read here. With dynamic shifting on, only `mu` (which Flux2KleinPipeline computes
# itself, `compute_empirical_mu`) and the exponential shift shape the sigmas; the pipeline passes
# `mu` on every call, which only makes sense with dynamic shifting on.
SCHEDULER: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "shift": 3.0,
    "use_dynamic_shifting": True,
    "base_shift": 0.5,
    "max_shift": 1.15,
    "base_image_seq_len": 256,
    "max_image_seq_len": 4096,
    "time_shift_type": "exponential",
}
TINY_TRANSFORMER: dict[str, Any] = {
    "patch_size": 1,
    "in_channels": 16,  # 4 latent channels x the 2x2 patch, as 32 x 4 = 128 in the real model
    "num_layers": 1,
    "num_single_layers": 1,
    "attention_head_dim": 16,
    "num_attention_heads": 2,
    "joint_attention_dim": len(TEXT_LAYERS) * _TEXT_WIDTH,
    "timestep_guidance_channels": 256,
    "mlp_ratio": 3.0,
    "axes_dims_rope": (4, 4, 4, 4),
    "rope_theta": 2000,
    "guidance_embeds": False,
}
# Four blocks give the real 8x downsampling, so 64 px images make 4x4 patched latents.
TINY_VAE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "block_out_channels": (4, 8, 8, 8),
    "layers_per_block": 1,
    "latent_channels": 4,
    "norm_num_groups": 4,
    "sample_size": 64,
}
TINY_TEXT: dict[str, Any] = {
    "hidden_size": _TEXT_WIDTH,
    "intermediate_size": 32,
    "num_hidden_layers": max(TEXT_LAYERS),
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 8,
    "max_position_embeddings": 512,
    "tie_word_embeddings": True,
}


def write_tiny_flux2_klein(folder: Path, seed: int = 0) -> Path:
    """Build a tiny random-weight Flux2KleinPipeline and save it under `folder`; return it."""
    import torch

    torch.manual_seed(seed)
    pipe = build_flux2_klein(
        transformer=TINY_TRANSFORMER, vae=TINY_VAE, text=TINY_TEXT, tokenizer=qwen_byte_tokenizer()
    )
    folder.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(str(folder))
    (folder / MARKER).write_text("random weights for smoke tests; images have no faces\n")
    return folder


def build_flux2_klein(
    transformer: dict[str, Any],
    vae: dict[str, Any],
    text: dict[str, Any],
    tokenizer: Any,
    *,
    device: str = "cpu",
    dtype: Any = None,
) -> Any:
    """Assemble a distilled Flux2KleinPipeline with random weights from component configs.

    Each module is built on `device` and cast to `dtype` before the next is made, so a
    real-size build never holds more than one module in float32.
    """
    import torch
    from diffusers import (
        AutoencoderKLFlux2,
        FlowMatchEulerDiscreteScheduler,
        Flux2KleinPipeline,
        Flux2Transformer2DModel,
    )
    from transformers import Qwen3Config, Qwen3ForCausalLM

    def made(cls: Any, **kwargs: Any) -> Any:
        with torch.device(device):
            module = cls(**kwargs)
        return module.to(dtype) if dtype is not None else module

    config = Qwen3Config(**({"vocab_size": len(tokenizer)} | text))
    config.pad_token_id = tokenizer.pad_token_id
    return _construct(
        Flux2KleinPipeline,
        scheduler=_construct(FlowMatchEulerDiscreteScheduler, **SCHEDULER),
        vae=made(AutoencoderKLFlux2, **vae),
        text_encoder=made(Qwen3ForCausalLM, config=config),
        tokenizer=tokenizer,
        transformer=made(Flux2Transformer2DModel, **transformer),
        is_distilled=True,
    )


def qwen_byte_tokenizer() -> Any:
    """Return a Qwen2 tokenizer over the byte-level symbols and Qwen's chat specials."""
    from transformers import Qwen2Tokenizer

    vocab = {token: index for index, token in enumerate([*_SPECIALS, *_byte_symbols()])}
    return Qwen2Tokenizer(
        vocab=vocab,
        merges=[],
        additional_special_tokens=list(_SPECIALS[1:]),
        chat_template=CHAT_TEMPLATE,
        model_max_length=512,
    )


def _byte_symbols() -> list[str]:
    """Return GPT-2's printable stand-ins for the 256 bytes, the alphabet of byte-level BPE."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += range(ord("®"), ord("ÿ") + 1)
    others = [b for b in range(256) if b not in printable]
    return [chr(b) for b in printable] + [chr(256 + i) for i in range(len(others))]


def _construct(cls: Any, **kwargs: Any) -> Any:
    """Call a diffusers constructor, which `register_to_config` leaves untyped."""
    return cls(**kwargs)
