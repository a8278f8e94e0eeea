"""The express rows of bench/gpu_timing.py: FLUX.2 [klein] 4B through the tier's own render.

Per image at batch 1, 4 and 8, square (1024x1024) and 4:5 (1024x1280), eager and with the
transformer's repeated blocks compiled; the prompt and reference encodings and one VAE decode.
"""

from __future__ import annotations

from typing import Any

from bench.pack_express import PROMPT, decode_latent, encode_refs
from bench.timing_run import TimingRun, synthetic_photos

TIER = "express"
BATCHES = (1, 4, 8)
EAGER_NEED_S = 25  # one batch size's three calls at both sizes, with room to spare
COMPILE_NEED_S = 150  # compiling the two block types (~1 min on an H100) and its renders


def sizes(px: int) -> dict[str, tuple[int, int]]:
    """Return the rendered sizes by aspect ratio: a 4:5 shot is 1024x1280 at 1024 px."""
    return {"1:1": (px, px), "4:5": (px, px * 5 // 4)}


def express_rows(run: TimingRun, pipe: Any) -> list[Any]:
    """Log the express parts and eager renders; return the reference images used."""
    opts = run.opts
    refs = references(opts.refs, opts.ref_px)
    run.part(TIER, "encode 1 prompt (Qwen3, 512 tokens)",
             lambda: pipe.encode_prompt([PROMPT], device=opts.device))  # fmt: skip
    run.part(TIER, f"VAE-encode {opts.refs} refs at {opts.ref_px} px",
             lambda: encode_refs(pipe, refs))  # fmt: skip
    run.part(TIER, f"VAE decode 1 image at {opts.px} px", lambda: decode_latent(pipe, opts))
    for batch in BATCHES:
        if run.fits(EAGER_NEED_S, f"express eager batch {batch}"):
            render_rows(run, pipe, refs, batch, "eager")
    return refs


def compiled_rows(run: TimingRun, pipe: Any, refs: list[Any]) -> None:
    """Compile the transformer's repeated blocks, then time the renders again (compile counted)."""
    if not run.fits(COMPILE_NEED_S, "compiled express renders"):
        return
    pipe.transformer.compile_repeated_blocks(fullgraph=True, backend=run.compile_backend)
    for batch in (4, 8, 1):  # the worker's batch first: the others recompile
        if run.fits(EAGER_NEED_S * 2, f"compiled express batch {batch}"):
            render_rows(run, pipe, refs, batch, "compiled")


def render_rows(run: TimingRun, pipe: Any, refs: list[Any], batch: int, mode: str) -> None:
    """Time `render_express` at `batch` for each aspect ratio; the first call warms up."""
    from engine.studio.express.render import ExpressRender

    for aspect, (width, height) in sizes(run.opts.px).items():
        settings = ExpressRender(width, height, batch=batch, reference_px=run.opts.ref_px)
        name = f"image {aspect} {width}x{height}, batch {batch}, {run.opts.refs} refs, {mode}"
        run.renders(TIER, name, batch, _render_call(pipe, refs, settings))


def references(count: int, side_px: int) -> list[Any]:
    """Return `count` reference pictures fitted as the tier fits them."""
    from engine.studio.express.render import fit_reference

    return [fit_reference(photo, side_px) for photo in synthetic_photos(count, side_px)]


def _render_call(pipe: Any, refs: list[Any], settings: Any) -> Any:
    from engine.studio.express.render import render_express

    prompts, seeds = [PROMPT] * settings.batch, list(range(settings.batch))

    def call() -> None:
        render_express(
            pipe, refs, prompts, seeds, settings,
            on_progress=lambda *_: None, should_stop=lambda: False,
        )  # fmt: skip

    return call
