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

# Which layer may import which. A layer is a top-level package, an engine subpackage, or a group
# of the bot (bot/text, bot/chat, ..., bot/fronts/<platform>).
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
}
# Everything of ours outside bot/ that the bot may import (narrowed further by ONLY_THROUGH).
BOT_OUTSIDE = {"core", "storage", "ops", "engine.jobs", "engine.studio", "engine.quality"}
# The bot's groups, each with the groups below it that it may import: text at the bottom, then
# the pure chat core, the image pool, the I/O shell, delivery, the fronts, the host, the
# commands and the command line on top. No group imports one above it or beside it.
BOT_GROUPS: dict[str, set[str]] = {
    "bot.text": set(),
    "bot.chat": {"bot.text"},
    "bot.images": {"bot.text", "bot.chat"},
    "bot.service": {"bot.text", "bot.chat", "bot.images"},
    "bot.delivery": {"bot.text", "bot.chat"},
    # The console runner hosts its own process (chat, notifier and the gallery's server).
    "bot.fronts.console": {"bot.text", "bot.chat", "bot.service", "bot.delivery",
                           "bot.fronts.gallery"},
    "bot.fronts.telegram": {"bot.text", "bot.chat", "bot.service"},
    "bot.fronts.discord": {"bot.text", "bot.chat", "bot.service"},
    # The gallery makes its thumbnails in the image pool (bot.images.child.thumbnail).
    "bot.fronts.gallery": {"bot.text", "bot.chat", "bot.images", "bot.service"},
    "bot.host": {"bot.chat", "bot.service", "bot.delivery", "bot.fronts.telegram",
                 "bot.fronts.discord", "bot.fronts.gallery"},
    "bot.commands": {"bot.service", "bot.host", "bot.fronts.console"},
}  # fmt: skip
for _group, _below in BOT_GROUPS.items():
    ALLOWED[_group] = BOT_OUTSIDE | _below
# The command line's table names every command, wherever it lives; nothing imports it.
ALLOWED["bot.cli"] = {"core", "bot.commands", *(f"engine.{p}" for p in
                      ("retouch", "quality", "worker", "evaluate", "studio"))}  # fmt: skip
ALLOWED["bot"] = ALLOWED["bot.fronts"] = set()  # the packages' own __init__
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
# The command line reaches the engine through each package's command module only.
CLI_COMMANDS = {
    "engine.retouch.cli", "engine.quality.cli", "engine.worker.cli", "engine.evaluate.command",
    "engine.studio.cli", "engine.studio.tiny_cli", "engine.quality", "engine.studio",
    "engine.retouch", "engine.worker", "engine.evaluate",
}  # fmt: skip
POOL_CHILDREN = {"bot.images.child": {"engine.quality", "engine.retouch"}}


def _module(path: Path, root: Path = ROOT) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


def _layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "engine":
        return ".".join(parts[:2])
    if parts[0] == "bot" and len(parts) > 1:
        return (
            ".".join(parts[:3]) if parts[1] == "fronts" and len(parts) > 2 else ".".join(parts[:2])
        )
    return parts[0]


def _package(path: Path, root: Path) -> str:
    module = _module(path, root)
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """Return the module an ImportFrom names, relative ones (`from .x import y`) resolved."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _lazy_homes(tree: ast.AST, package: str) -> dict[str, str]:
    """Return a package's `_HOMES` table (name -> module it is imported from on first use)."""
    for node in getattr(tree, "body", []):
        if (
            isinstance(node, ast.Assign)
            and [ast.unparse(target) for target in node.targets] == ["_HOMES"]
            and isinstance(node.value, ast.Dict)
        ):
            homes = {}
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(value, ast.Constant):
                    home = str(value.value)
                    homes[str(key.value)] = home if "." in home else f"{package}.{home}"
            return homes
    return {}


def _imports(path: Path, root: Path = ROOT) -> Iterator[tuple[int, str]]:
    """Yield every import of a file: at run time or for types only, absolute or relative, by
    statement, by `importlib.import_module("name")` or by a package's lazy `_HOMES` table."""
    tree = ast.parse(path.read_text())
    package = _package(path, root)
    if path.name == "__init__.py":
        yield from ((0, home) for home in _lazy_homes(tree, package).values())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = _absolute(node, package)
            yield node.lineno, module
            yield from ((node.lineno, f"{module}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in {"importlib.import_module", "import_module"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            yield node.lineno, str(node.args[0].value)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Return every module of ours and the modules of ours it imports (lazily, for types or not).

    `from engine.jobs import Tier` counts as importing engine.jobs and the module its lazy table
    names for Tier (engine.jobs.contract), so a circle through a re-export is seen too.
    """
    paths = {_module(p, root): p for pkg in PACKAGES for p in (root / pkg).rglob("*.py")}
    homes = {
        name: _lazy_homes(ast.parse(path.read_text()), name)
        for name, path in paths.items()
        if path.name == "__init__.py"
    }
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        found = {t for _, t in _imports(path, root) if t.split(".")[0] in PACKAGES}
        found |= {
            homes[package][attr]
            for target in found
            for package, _, attr in [target.rpartition(".")]
            if attr in homes.get(package, {})
        }
        graph[name] = {target for target in found if target in paths}
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
                if here.startswith(prefix) and there == layer and target not in allowed:
                    if here == "bot.cli" and target in CLI_COMMANDS:
                        continue
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
        # Against the bot's groups: the core above the shell, text above chat, a front beside
        # another, delivery beside the shell, the shell above the fronts, the tools above bot.
        ("bot.chat.conversation", "bot.service.chat_service"),
        ("bot.text.messages", "bot.chat.session"),
        ("bot.fronts.telegram.sink", "bot.fronts.discord.sink"),
        ("bot.delivery.notifier", "bot.service.chat_service"),
        ("bot.service.chat_service", "bot.fronts.telegram.front"),
        ("bot.images.pool", "engine.quality.gate"),
        ("bot.commands.run", "engine.worker.runner"),
        ("ops.doctor", "bot.host"),
    ],
)
def test_the_rules_catch_a_wrong_import(importer: str, target: str) -> None:
    graph = import_graph()
    graph[importer] = {*graph[importer], target}
    assert any(line.startswith(f"{importer} imports {target}") for line in violations(graph))


def test_a_cycle_is_found() -> None:
    graph = {"storage.a": {"storage.b"}, "storage.b": {"storage.a"}}
    assert cycles(graph) == [["storage.a", "storage.b", "storage.a"]]


def _tree(root: Path, files: dict[str, str]) -> Path:
    for pkg in PACKAGES:
        (root / pkg).mkdir()
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_type_only_and_relative_imports_make_a_cycle(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "storage/__init__.py": "",
        "storage/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                        "    from storage.b import B\n",
        "storage/b.py": "from . import a\n",
    })  # fmt: skip
    assert cycles(import_graph(root)) == [["storage.a", "storage.b", "storage.a"]]


def test_imports_by_name_and_lazy_tables_count(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "storage/__init__.py": '_HOMES = {"Blob": "blob"}\n',
        "storage/blob.py": "import importlib\nimportlib.import_module('core.x')\n",
        "core/__init__.py": "",
        "core/x.py": "from storage import Blob\n",
    })  # fmt: skip
    graph = import_graph(root)
    assert graph["storage"] == {"storage.blob"}
    assert graph["core.x"] == {"storage", "storage.blob"}
    assert "core.x imports storage.blob: core may not import storage" in violations(graph)
    assert cycles(graph) == [["core.x", "storage", "storage.blob", "core.x"]]


def test_the_command_line_imports_every_command() -> None:
    from bot.cli import COMMANDS

    assert {module.__name__ for module in COMMANDS} <= import_graph()["bot.cli"]


def test_the_bot_root_holds_only_the_host_and_the_command_line() -> None:
    """Every other module lies in a group the layering names: the tree shows the architecture."""
    at_root = sorted(p.name for p in (ROOT / "bot").glob("*.py"))
    assert at_root == ["__init__.py", "cli.py", "host.py"]
    assert {_layer(_module(p)) for p in (ROOT / "bot").rglob("*.py")} <= set(ALLOWED)


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
