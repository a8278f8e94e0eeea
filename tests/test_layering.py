"""DESIGN.md's dependency direction, asserted on the import graph module by module."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "core", "engine", "ops", "storage")
HEAVY = ["torch", "diffusers", "transformers", "peft", "mediapipe", "cv2", "dlib"]

# Which layer may import which. A layer is a top-level package, or an engine subpackage.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "storage": {"core"},
    "engine.jobs": {"core", "storage"},
    "ops": {"core", "storage", "engine.jobs"},
    "engine.faces": {"core"},
    "engine.quality": {"core", "engine.faces"},
    "engine.retouch": {"core", "engine.faces", "engine.quality"},
    "engine.studio": {"core", "storage", "engine.jobs", "engine.faces", "engine.quality"},
    "engine.worker": {"core", "storage", "ops", "engine.jobs", "engine.studio"},
    "engine.evaluate": {"core", "engine.faces", "engine.quality", "engine.studio"},
    "bot": {"core", "storage", "ops", "engine.jobs", "engine.studio", "engine.quality"},
}
# Narrower rules inside a layer: (importer prefix, imported prefix) pairs that are the only way
# from one to the other. The bot reads the style catalogue (data files, no torch) and nothing
# else of the studio; the worker knows backends only through their protocol; only the image
# pool's child process touches the gate and the retouch.
ONLY_THROUGH: list[tuple[str, str, set[str]]] = [
    ("bot", "engine.studio", {"engine.studio.styles"}),
    # The gate's types only (the face record, its words): its checks run in the image pool.
    ("bot", "engine.quality", {"engine.quality.report"}),
    ("engine.worker", "engine.studio", {"engine.studio.protocol"}),
]
POOL_CHILDREN = {"bot.images.child": {"engine.quality", "engine.retouch"}}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _layer(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "engine" and len(parts) > 1 else parts[0]


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Walk the tree, skipping `if TYPE_CHECKING:` blocks (they import nothing at run time)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Return every module of ours and the modules of ours it imports (lazily or not)."""
    modules = {_module(p): p for pkg in PACKAGES for p in (root / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = {target for _, target in _imports(path) if target.split(".")[0] in PACKAGES}
        graph[name] = {target for target in found if target in modules}
    return graph


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Return every import that breaks the layering rules, as readable lines."""
    wrong = []
    for importer, targets in sorted(graph.items()):
        here = _layer(importer)
        for target in sorted(targets):
            there = _layer(target)
            if there == here:
                continue
            if importer in POOL_CHILDREN and there in POOL_CHILDREN[importer]:
                continue
            if there not in ALLOWED[here]:
                wrong.append(f"{importer} imports {target}: {here} may not import {there}")
            for prefix, layer, allowed in ONLY_THROUGH:
                if here == prefix and there == layer and target not in allowed:
                    wrong.append(f"{importer} imports {target}: only {sorted(allowed)}")
    return wrong


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return import cycles between modules (each once), ignoring a package's own __init__."""
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if node.startswith(target + "."):
                continue  # a module importing its own package's __init__ re-exports
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def test_every_import_follows_the_layering() -> None:
    assert violations(import_graph()) == []


def test_there_are_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize(
    ("importer", "target"),
    [
        ("bot.service.chat_service", "engine.worker.runner"),
        ("bot.service.app", "engine.studio.lora.backend"),
        ("engine.worker.pack_job", "engine.studio.lora.backend"),
        ("storage.blobs", "engine.jobs.keys"),
        ("engine.jobs.queue", "ops.metrics"),
    ],
)
def test_the_rules_catch_a_wrong_import(importer: str, target: str) -> None:
    graph = import_graph()
    graph[importer] = {*graph[importer], target}
    assert any(line.startswith(f"{importer} imports {target}") for line in violations(graph))


def test_a_cycle_is_found() -> None:
    graph = {"storage.a": {"storage.b"}, "storage.b": {"storage.a"}}
    assert cycles(graph) == [["storage.a", "storage.b", "storage.a"]]


def _light_modules() -> list[str]:
    paths = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "storage").rglob("*.py")]
    paths += [*(ROOT / "core").rglob("*.py"), *(ROOT / "ops").rglob("*.py")]
    paths += [*(ROOT / "engine" / "jobs").rglob("*.py"), ROOT / "engine/studio/styles/__init__.py"]
    return sorted(_module(p) for p in paths)


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


def test_importing_does_nothing_but_define() -> None:
    code = (
        "import threading, bot.cli, storage.blobs, storage.state_redis\n"
        "print(threading.active_count())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "1"


# ----- every Redis key in engine/jobs/keys.py -------------------------------------------------

KEYS_MODULE = ROOT / "engine" / "jobs" / "keys.py"
# A literal that starts like one of our keys, or an f-string without spaces that glues values to
# words with colons ("{scope}:session", "job:{id}"): the shapes a key takes.
# Button data ("style:{}", "cancel:yes") has the same shape but never reaches Redis: the f-string
# rule looks for the words our keys are made of.
KEY_WORDS = "session|quota|msg|jobs|job|active|cancel|lease|latest|events|delivery|eta|notify"
KEY_LITERAL = re.compile(r"^(hs|headshots):\w")
KEY_FSTRING = re.compile(
    rf"^(hs:.*|[\w.{{}}:*-]*(\{{\}}:({KEY_WORDS})\b|\b({KEY_WORDS}):\{{\}})[\w.{{}}:*-]*)$"
)


def _key_shapes(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
            )
            if KEY_FSTRING.match(text):
                yield node.lineno, text
        elif isinstance(node, ast.Constant) and KEY_LITERAL.match(str(node.value)):
            yield node.lineno, str(node.value)


def test_no_module_but_keys_builds_a_redis_key() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for pkg in PACKAGES
        for path in sorted((ROOT / pkg).rglob("*.py"))
        if path != KEYS_MODULE
        for line, text in _key_shapes(path)
    ]
    assert found == []


def test_the_key_scan_sees_a_key_built_elsewhere(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('a = f"{scope}:session"\nb = "hs:lease:x"\nc = f"{name}: {message}"\n')
    assert [text for _, text in _key_shapes(sample)] == ["{}:session", "hs:lease:x"]
