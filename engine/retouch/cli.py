"""`headshots retouch`: studio-style headshots from selfies on the CPU, plus a contact sheet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

NAME = "retouch"
HELP = "turn selfies into studio-style headshots on the CPU and write a contact sheet"
ASPECTS = ("1:1", "4:5")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Take photos, an output folder, backgrounds and the aspect."""
    parser.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--background",
        action="append",
        metavar="grey|white|dark|blur|brand|#RRGGBB",
        help="backdrop; repeat for several (default: HEADSHOTS_RETOUCH_BACKGROUND, grey)",
    )
    parser.add_argument(
        "--aspect", choices=ASPECTS, help="1:1 (1024 px) or 4:5 (default: HEADSHOTS_RETOUCH_ASPECT)"
    )
    parser.add_argument("--name", help="with --title: also write a profile kit for the first photo")
    parser.add_argument("--title", help="job title for the profile kit's banner")


def run(args: argparse.Namespace) -> int:
    """Retouch every photo; report the ones that fail and write the contact sheet."""
    from core.errors import HeadshotsError
    from core.settings import load_settings
    from engine.retouch.background import check_spec
    from engine.retouch.options import RetouchOptions
    from engine.retouch.pool import build_retoucher
    from engine.retouch.sheet import contact_sheet

    settings = load_settings()
    backgrounds = [check_spec(spec) for spec in args.background or [settings.retouch_background]]
    aspect = args.aspect or settings.retouch_aspect
    retoucher = build_retoucher(RetouchOptions(brand_colour=settings.brand_colour))
    args.out.mkdir(parents=True, exist_ok=True)
    rows, firsts, failed = [], [], 0
    for photo in args.photos:
        try:
            results = {
                spec: retoucher.retouch(photo.read_bytes(), background=spec, aspect=aspect)
                for spec in backgrounds
            }
        except (HeadshotsError, OSError) as exc:
            print(f"{photo}: {exc}", file=sys.stderr)
            failed += 1
            continue
        rows.append([_open(photo), *_write(photo, results, args.out)])
        firsts.append(results[backgrounds[0]])
    if rows:
        sheet = args.out / "contact_sheet.png"
        contact_sheet(rows, ["before", *backgrounds]).save(sheet)
        print(sheet)
    if firsts and args.name and args.title:
        kit = retoucher.profile_kit(
            firsts[0], name=args.name, title=args.title, brand_colour=settings.brand_colour
        )
        _write_kit(kit, args.out)
    return 1 if failed else 0


def _write(photo: Path, results: dict[str, bytes], out: Path) -> list[Image.Image]:
    images = []
    for spec, jpeg in results.items():
        target = out / f"{photo.stem}_{spec.lstrip('#')}.jpg"
        target.write_bytes(jpeg)
        print(target)
        images.append(_open(target))
    return images


def _open(path: Path) -> Image.Image:
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def _write_kit(kit: dict[str, bytes], out: Path) -> None:
    for part, data in kit.items():
        target = out / f"{part}.{'png' if part == 'banner' else 'jpg'}"
        target.write_bytes(data)
        print(target)
