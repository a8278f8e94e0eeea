"""When the studio's training turns gradient checkpointing on by itself (auto mode)."""

from __future__ import annotations

from engine.studio.lora.trainable import should_checkpoint

GIB = 2**30
SDXL = 7 * GIB  # the studio's bf16 weights, about 3.5 B parameters
KLEIN = 16 * GIB  # a co-resident express pipeline: FLUX.2 klein 4B and Qwen3-4B in bf16


def test_a_card_big_enough_alone_trains_unchecked() -> None:
    assert not should_checkpoint(48 * GIB - SDXL, 0, SDXL)
    assert not should_checkpoint(80 * GIB - SDXL - KLEIN, 0, SDXL)  # an H100 has room for both


def test_the_memory_a_co_resident_express_pipeline_holds_is_not_the_studio_s() -> None:
    # A 48 GiB card is over the line by its total, but with klein on it training gets 32 GiB.
    assert should_checkpoint(48 * GIB - SDXL - KLEIN, 0, SDXL)


def test_memory_the_allocator_holds_unused_counts_as_usable() -> None:
    free = 64 * GIB - SDXL - KLEIN - 10 * GIB  # 10 GiB more held: 31 GiB free
    assert not should_checkpoint(free, 10 * GIB, SDXL)  # cached from our own renders: reusable
    assert should_checkpoint(free, 0, SDXL)  # held by another process: gone
