"""Judging off the GPU's clock, on the tiny klein: a pack judged after rendering, and meanwhile.

Run: python bench/pack_overlap.py [--batches 6] [--batch 4] [--px 128] [--runs 3]

Renders `batches` batches with the express tier's own `render_express` on the tiny FLUX.2 klein
(one torch thread, standing in for the GPU), and judges every render: "old" measures them all
after the last batch, as the selection did; "new" hands each batch to the BackgroundJudge as it
is rendered and collects at the end. Tiny renders are noise with no face to measure, so each
render hands the judge a real face photo instead (Grace Hopper, a different brightness each):
the judge does a real render's work (detection, mesh, descriptor). Prints the medians of both,
rendering alone, judging per batch, and "rendering + the last batch's judging", the floor the
new way should reach.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)


def main() -> None:
    """Time both ways `runs` times each, alternating, and print the medians."""
    args = _parser().parse_args()
    import torch

    torch.set_num_threads(1)
    from engine.faces import FaceAnalyzer

    pipe = _pipe()
    stand_ins = _stand_ins(args.batches * args.batch)
    faces = FaceAnalyzer()
    figures: dict[str, list[float]] = {"old": [], "new": [], "render": [], "judge": []}
    try:
        for _ in range(args.runs):
            render_s, judge_s, old_s = _old(pipe, faces, stand_ins, args)
            figures["render"].append(render_s)
            figures["judge"].append(judge_s / args.batches)
            figures["old"].append(old_s)
            figures["new"].append(_new(pipe, faces, stand_ins, args))
    finally:
        faces.close()
    _report(figures, args)


def _old(
    pipe: Any, faces: Any, stand_ins: list[Any], args: argparse.Namespace
) -> tuple[float, ...]:
    """Render every batch, then judge every render: return render, judge and total seconds."""
    from engine.studio.selection import SelectionRules, measure_candidate

    start = time.perf_counter()
    for n in range(args.batches):
        _render(pipe, n, args)
    rendered = time.perf_counter()
    for image in stand_ins:
        measure_candidate(faces, image, SelectionRules())
    end = time.perf_counter()
    return rendered - start, end - rendered, end - start


def _new(pipe: Any, faces: Any, stand_ins: list[Any], args: argparse.Namespace) -> float:
    """Render every batch, handing each to the judge as it is done; return the total seconds."""
    from engine.studio.judging import BackgroundJudge
    from engine.studio.selection import SelectionRules

    judge = BackgroundJudge(faces, SelectionRules())
    try:
        start = time.perf_counter()
        for n in range(args.batches):
            _render(pipe, n, args)
            judge.submit(stand_ins[n * args.batch : (n + 1) * args.batch])
        judge.collect(stand_ins, [])
        return time.perf_counter() - start
    finally:
        judge.close()


def _render(pipe: Any, n: int, args: argparse.Namespace) -> None:
    from engine.studio.express.render import ExpressRender, render_express

    settings = ExpressRender(args.px, args.px, steps=4, batch=args.batch, reference_px=64)
    prompts = ["the person in the reference photos, studio headshot"] * args.batch
    seeds = list(range(n * args.batch, (n + 1) * args.batch))
    render_express(pipe, [], prompts, seeds, settings, on_progress=lambda *_: None,
                   should_stop=lambda: False)  # fmt: skip


def _pipe() -> Any:
    from engine.studio.loading import load_pipeline
    from engine.studio.tiny_flux2 import write_tiny_flux2_klein

    folder = write_tiny_flux2_klein(Path(tempfile.mkdtemp(prefix="overlap-")) / "klein")
    pipe = load_pipeline(str(folder), device="cpu", family="Flux2KleinPipeline")
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _stand_ins(count: int) -> list[Any]:
    """Return one face photo per render, each a little brighter, so no two are the same bytes."""
    from PIL import ImageEnhance

    from engine.studio.protocol import GeneratedImage
    from tests import photos

    grace = photos.grace_hopper()
    return [
        GeneratedImage("medical", i, photos.to_bytes(
            ImageEnhance.Brightness(grace).enhance(0.9 + 0.005 * i), "PNG"))
        for i in range(count)
    ]  # fmt: skip


def _report(figures: dict[str, list[float]], args: argparse.Namespace) -> None:
    median = {name: statistics.median(values) for name, values in figures.items()}
    floor = median["render"] + median["judge"]
    print(f"tiny klein, {args.batches} batches of {args.batch} at {args.px} px, 4 steps, "
          f"1 torch thread; medians of {args.runs} runs")  # fmt: skip
    print(f"rendering alone: {median['render']:.2f} s; judging: {median['judge']:.2f} s a batch")
    print(f"old (judge after rendering): {median['old']:.2f} s")
    ratio = median["new"] / median["old"]
    print(f"new (BackgroundJudge):       {median['new']:.2f} s  (new/old {ratio:.2f})")
    print(f"rendering + the last batch's judging: {floor:.2f} s")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--px", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    return parser


if __name__ == "__main__":
    main()
