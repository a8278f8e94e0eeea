"""Run a bench script on two checkouts in one go and print old, new and their ratio.

`python bench/quality.py --against /path/to/old/checkout` runs the script twice, in a child
process each: first with the old checkout's code on the path, then with this one's. Both runs
use this script (so they measure the same things) on the same machine minutes apart, which is
what makes the ratio honest on a shared host. Make the old checkout with
`git worktree add --detach /tmp/base <commit>`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT_FLAG, FIGURES_FLAG, AGAINST_FLAG = "--code-root", "--figures-to", "--against"
_FIGURES_OUT: list[Path] = []


def code_root(default: Path) -> Path:
    """Return the checkout whose code this run measures, taking this module's flags off argv."""
    root = _take(ROOT_FLAG) or str(default)
    figures = _take(FIGURES_FLAG)
    if figures:
        _FIGURES_OUT.append(Path(figures))
    return Path(root).resolve()


def against() -> Path | None:
    """Return the old checkout named by --against (taken off argv), if any."""
    found = _take(AGAINST_FLAG)
    return Path(found).resolve() if found else None


def record(figures: dict[str, float]) -> None:
    """Hand this run's figures to the parent of an --against run (nothing otherwise)."""
    for path in _FIGURES_OUT:
        path.write_text(json.dumps(figures))


def compare(script: str, old: Path) -> None:
    """Run `script` (with the remaining argv) on `old` and on this checkout; print the ratios."""
    new = Path(script).resolve().parent.parent
    runs = {name: _run(script, root) for name, root in (("old", old), ("new", new))}
    print(f"\nold: {old}\nnew: {new}\n{'figure':<58} {'old':>9} {'new':>9} {'new/old':>8}")
    for name, old_value in runs["old"].items():
        new_value = runs["new"].get(name)
        if new_value is None:
            continue
        ratio = f"{new_value / old_value:8.2f}" if old_value else "       -"
        print(f"{name:<58} {old_value:9.1f} {new_value:9.1f} {ratio}")


def _run(script: str, root: Path) -> dict[str, float]:
    print(f"--- {root}", flush=True)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, script, *sys.argv[1:], ROOT_FLAG, str(root)]
        subprocess.run([*command, FIGURES_FLAG, out.name], check=True, cwd=root)
        text = Path(out.name).read_text()
    return {str(k): float(v) for k, v in json.loads(text).items()} if text else {}


def _take(flag: str) -> str | None:
    """Remove `flag VALUE` from sys.argv and return VALUE."""
    if flag not in sys.argv:
        return None
    at = sys.argv.index(flag)
    value = sys.argv[at + 1]
    del sys.argv[at : at + 2]
    return value
