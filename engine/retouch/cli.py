"""`headshots retouch`: studio-style headshots from selfies on the CPU, plus a contact sheet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
        help="backdrop; repeat for several (default: grey)",
    )
    parser.add_argument("--aspect", choices=ASPECTS, default="1:1", help="1:1 (1024 px) or 4:5")
    parser.add_argument("--name", help="with --title: also write a profile kit for the first photo")
    parser.add_argument("--title", help="job title for the profile kit's banner")


def run(args: argparse.Namespace) -> int:
    """Retouch every photo; report the ones that fail and write the contact sheet."""
    from PIL import Image

    from engine.retouch.background import check_spec
    from engine.retouch.options import RetouchError, RetouchOptions
    from engine.retouch.sheet import contact_sheet
    from engine.retouch.worker import build_retoucher
    from storage.settings import load_settings

    settings = load_settings()
    backgrounds = [check_spec(spec) for spec in args.background or ["grey"]]
    retoucher = build_retoucher(RetouchOptions(brand_colour=settings.brand_colour))
    args.out.mkdir(parents=True, exist_ok=True)
    rows, failed, first = [], 0, None
    for photo in args.photos:
        try:
            results = [
                retoucher.retouch(photo.read_bytes(), background=spec, aspect=args.aspect)
                for spec in backgrounds
            ]
        except (RetouchError, OSError) as exc:
            print(f"{photo}: {exc}", file=sys.stderr)
            failed += 1
            continue
        first = first or results[0]
        row = [Image.open(photo)]
        for spec, jpeg in zip(backgrounds, results, strict=True):
            target = args.out / f"{photo.stem}_{spec.lstrip('#')}.jpg"
            target.write_bytes(jpeg)
            row.append(Image.open(target))
            print(target)
        rows.append(row)
    if rows:
        sheet = args.out / "contact_sheet.png"
        contact_sheet(rows, ["before", *backgrounds]).save(sheet)
        print(sheet)
    if first is not None and args.name and args.title:
        kit = retoucher.profile_kit(
            first, name=args.name, title=args.title, brand_colour=settings.brand_colour
        )
        _write_kit(kit, args.out)
    return 1 if failed else 0


def _write_kit(kit: dict[str, bytes], out: Path) -> None:
    for part, data in kit.items():
        target = out / f"{part}.{'png' if part == 'banner' else 'jpg'}"
        target.write_bytes(data)
        print(target)
