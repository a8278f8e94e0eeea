"""Time both tiers' packs on a GPU with random weights of the real architectures (no download).

Run on a GPU host:  python bench/gpu_pack.py --tier both      (under 8 minutes on one H200)
A bare GPU host (no settings, no face stack): bench/gpu_timing.py, through bench/device/run.sh.
Run here (no GPU):  python bench/gpu_pack.py --tiny --tier both

Express (bench/pack_express.py): FLUX.2 [klein] 4B transformer, its Qwen3-4B text encoder and
VAE, at 1024 px and 4 steps: reference encoding, text encoding, seconds per image at batch 1, 4
and 8, VAE decode, peak GPU memory, eager and with `torch.compile`. Studio (bench/pack_studio.py):
SDXL at 1024 px: LoRA training step with the settings' recipe and its knobs (uncached inputs,
batch 2, `--compile-train`), image at the style's steps and at the acceleration recipe's few steps
with the acceleration LoRA stacked under the person's (`--acceleration FILE`: the real one), VAE
decode. Both: the CPU face work and a projected 40-image pack, in one table. With a real model
(`--express-model`, `--studio-model` or `--model` for the one tier: a folder or a Hugging Face
cache id) the table also gives the quality a worker records (share of the same person, median
identity distance, near-copies); random weights say "no faces: random weights". `--tiny` runs
the same code on the tiny random models on the CPU: its figures say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.pack_timing import Row, print_table  # noqa: E402  (after the path is set)
from bench.run_options import BenchOptions  # noqa: E402

TIERS = {"express": ("express",), "studio": ("studio",), "both": ("express", "studio")}


def main() -> int:
    """Build each tier's pipeline in turn, time it, and print one table."""
    args = _parser().parse_args()
    import torch

    if not args.tiny and not torch.cuda.is_available():
        print("no CUDA device: run on a GPU host, or pass --tiny for the CPU smoke figures")
        return 2
    if args.model and args.tier == "both":
        print("--model names one tier's model: use --express-model and --studio-model")
        return 2
    if args.tiny:
        torch.set_num_threads(1)  # two threads made tiny timings erratic (REFERENCE.md)
    opts = _options(args)
    from bench.pack_quality import face_work

    rows, cpu = face_work()
    for tier in TIERS[args.tier]:
        rows += _tier(tier, opts, cpu)
    print_table(_title(opts), rows)
    return 0


def _tier(tier: str, opts: BenchOptions, cpu: dict[str, float]) -> list[Row]:
    """Build the tier's pipeline, measure it, free it; return its rows."""
    import gc

    import torch

    from bench.pack_express import express_pipeline, measure_express, project_express
    from bench.pack_quality import quality_rows
    from bench.pack_studio import measure_studio, person_crops, project_studio, studio_pipeline
    from tests import photos

    if tier == "express":
        pipe = express_pipeline(opts)
        pipe.set_progress_bar_config(disable=True)
        rows, images = measure_express(pipe, opts)
        rows += project_express(rows, cpu, opts)
        person, random = [photos.astronaut()], opts.express_model is None
    else:
        pipe = studio_pipeline(opts)
        pipe.set_progress_bar_config(disable=True)
        rows, images, overhead_s = measure_studio(pipe, opts)
        rows += project_studio(rows, cpu, overhead_s, opts)
        person, random = person_crops(), opts.studio_model is None
    del pipe  # the next tier's weights need the memory
    gc.collect()
    if not opts.tiny:
        torch.cuda.empty_cache()
    return rows + quality_rows(tier, images, person, random)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tier", choices=sorted(TIERS), default="both")
    parser.add_argument("--tiny", action="store_true", help="tiny random models on the CPU")
    parser.add_argument("--model", help="a real model (folder or cache id) for the one tier")
    parser.add_argument("--express-model", help="a real FLUX.2 klein (folder or cache id)")
    parser.add_argument("--studio-model", help="a real SDXL (folder or cache id)")
    parser.add_argument("--refs", type=int, default=_default("express_references"))
    parser.add_argument("--ref-px", type=int, default=_default("express_reference_px"))
    parser.add_argument("--runs", type=int, default=2, help="timed express calls per measure")
    parser.add_argument("--no-compile", action="store_true", help="skip the compiled pass")
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--images", type=int, default=4, help="timed studio render calls")
    parser.add_argument("--batch", type=int, default=1, help="studio images per render call")
    parser.add_argument("--style", default="corporate-grey")
    parser.add_argument("--acceleration", help="a real Hyper-SD / SDXL-Lightning LoRA file")
    parser.add_argument(
        "--acceleration-recipe",
        choices=_recipes(),
        default=_default_text("studio_acceleration_recipe"),
    )
    parser.add_argument("--compile-train", action="store_true", help="time a compiled training")
    parser.add_argument("--checkpointing", choices=("auto", "on", "off"), default="auto")
    return parser


def _default(setting: str) -> int:
    """Return a worker setting's default: the bench times the express settings a host gets."""
    from core.settings import Settings

    return int(Settings.model_fields[setting].default)


def _default_text(setting: str) -> str:
    from core.settings import Settings

    return str(Settings.model_fields[setting].default)


def _recipes() -> list[str]:
    from engine.studio.lora.acceleration import RECIPES

    return sorted(RECIPES)


def _options(args: argparse.Namespace) -> BenchOptions:
    single = {"express": "express_model", "studio": "studio_model"}.get(args.tier)
    models = {"express_model": args.express_model, "studio_model": args.studio_model}
    if args.model and single:
        models[single] = args.model
    return BenchOptions(
        tiny=args.tiny, scratch=Path(tempfile.mkdtemp(prefix="gpu-pack-")), **models,
        refs=args.refs, ref_px=64 if args.tiny else args.ref_px, runs=args.runs,
        compile=not args.no_compile, train_steps=args.train_steps, images=args.images,
        batch=args.batch, style=args.style, acceleration=args.acceleration,
        acceleration_recipe=args.acceleration_recipe, compile_train=args.compile_train,
        checkpointing=args.checkpointing,
    )  # fmt: skip


def _title(opts: BenchOptions) -> str:
    import time

    spent_s = time.perf_counter() - opts.started
    if opts.tiny:
        return f"tiny random models on the CPU (1 thread): NOT GPU figures; {spent_s:.0f} s"
    import torch

    kind = "real weights" if opts.express_model or opts.studio_model else "random weights"
    return f"{torch.cuda.get_device_name()}, bf16, real architectures, {kind}; {spent_s:.0f} s"


if __name__ == "__main__":
    sys.exit(main())
