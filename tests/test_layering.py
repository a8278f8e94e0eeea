"""DESIGN.md's dependency direction: the bot process never loads the heavy engine libraries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ["torch", "diffusers", "transformers", "peft", "mediapipe", "cv2", "dlib"]
LIGHT_MODULES = ["bot", "storage", "engine.jobs"]


def _light_modules() -> list[str]:
    paths = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "storage").rglob("*.py")]
    if (ROOT / "engine" / "jobs.py").exists():
        paths.append(ROOT / "engine" / "jobs.py")
    names = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in paths]
    return sorted(name.removesuffix(".__init__") for name in names)


def test_light_modules_import_no_heavy_library() -> None:
    modules = _light_modules()
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "", f"heavy libraries imported: {result.stdout.strip()}"


@pytest.mark.parametrize("path", sorted((ROOT / "storage").glob("*.py")), ids=lambda p: p.name)
def test_storage_imports_neither_bot_nor_engine(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] not in {"bot", "engine"}, f"{path.name}: {node.module}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] not in {"bot", "engine"}, (
                    f"{path.name}: {alias.name}"
                )


def test_importing_does_nothing_but_define() -> None:
    code = (
        "import threading, bot.cli, storage.blobs, storage.state_redis\n"
        "print(threading.active_count())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "1"
