"""`headshots generate`: a whole pack in-process from a folder of selfies, with a progress bar."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

from core.settings import Settings
from engine.studio.protocol import RenderOrder, StageContext, Studio

NAME = "generate"
HELP = "make a headshot pack from a folder of selfies, in this process (no chat, no queue)"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp"}
OVERGENERATE = 1.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take the selfies folder, the output folder, styles, count, model, subject and seed."""
    parser.add_argument("--selfies", type=Path, required=True, metavar="DIR")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--styles", nargs="+", metavar="STYLE", help="style ids (default: 4)")
    parser.add_argument("--count", type=int, default=4, help="images kept per style")
    parser.add_argument("--model", metavar="ID_OR_PATH", help="default: HEADSHOTS_BASE_MODEL")
    parser.add_argument("--subject", choices=("man", "woman", "person"), default="person")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--tier",
        choices=("studio", "express"),
        default="studio",
        help="studio: train a personal LoRA; express: the selfies as references, no training",
    )
    parser.add_argument(
        "--no-select", action="store_true", help="keep every candidate (tiny-model smoke runs)"
    )


def run(args: argparse.Namespace) -> int:
    """Run preprocess, train, generate and select; write PNG and JPEG files and results.json."""
    from core.errors import HeadshotsError
    from core.settings import load_settings
    from engine.studio.postprocess import export_jpeg
    from engine.studio.styles import get_style, list_styles

    found = sorted(args.selfies.iterdir()) if args.selfies.is_dir() else []
    selfies = [p.read_bytes() for p in found if _is_photo(p)]
    if not selfies:
        raise HeadshotsError(f"no photos (JPEG, PNG, HEIC, WebP) in {args.selfies}")
    styles = args.styles or [s.id for s in list_styles()[:4]]
    for style_id in styles:
        get_style(style_id)  # an unknown id fails before the model loads
    studio = _load(args, load_settings())
    crops = studio.preprocess(selfies, args.subject)
    print(f"{len(crops)} of {len(selfies)} selfies framed", file=sys.stderr)
    identity = studio.personalize(
        crops, _context(args, "train" if args.tier == "studio" else "refs")
    )
    order = RenderOrder(tuple(styles), math.ceil(args.count * OVERGENERATE))
    candidates = studio.generate(identity, order, _context(args, "render"))
    kept = (
        candidates
        if args.no_select
        else studio.select(candidates, selfies=selfies, keep_per_style=args.count).images
    )
    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    for index, image in enumerate(kept):
        stem = args.out / f"{image.style_id}-{index:02d}"
        stem.with_suffix(".png").write_bytes(image.png)
        stem.with_suffix(".jpg").write_bytes(export_jpeg(image.png))
        records.append(
            {
                "file": stem.name,
                "style": image.style_id,
                "seed": image.seed,
                "distance": image.score,
            }
        )
    (args.out / "results.json").write_text(json.dumps(records, indent=2))
    print(f"kept {len(kept)} of {len(candidates)} images in {args.out}")
    return 0


def _load(args: argparse.Namespace, settings: Settings) -> Studio:
    if args.tier == "express":
        from engine.studio.express.backend import load_express_studio

        model = {"express_model": args.model} if args.model else {}
        return load_express_studio(settings.model_copy(update=model))

    from engine.studio.lora.backend import load_studio

    model = {"base_model": args.model} if args.model else {}
    return load_studio(settings.model_copy(update=model))


def _is_photo(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in PHOTO_SUFFIXES


def _never() -> bool:
    return False


def _context(args: argparse.Namespace, label: str) -> StageContext:
    return StageContext(args.subject, args.seed, _bar(label), _never)


def _bar(label: str, width: int = 30) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        filled = width * done // max(total, 1)
        end = "\n" if done >= total else ""
        bar = "#" * filled + "." * (width - filled)
        print(f"\r{label:>6} [{bar}] {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show
