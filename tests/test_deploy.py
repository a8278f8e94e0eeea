"""deploy/ is checked against the code: commands exist, settings exist, the example is current."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import build_parser
from core.settings import ENV_PREFIX, Settings
from ops.env_example import render_env_example

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
OUR_SERVICES = ("bot", "worker")
VARIABLE = re.compile(rf"\b{ENV_PREFIX}[A-Z0-9_]+")


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def _unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Parse a systemd unit: sections of (key, value) pairs; keys may repeat."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path.name}: {line!r} is outside a section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: {line!r} is not key=value"
        current.append((key.strip(), value.strip()))
    return sections


def _assert_cli(argv: list[str], where: str) -> None:
    """`headshots ARGS` must parse with the real CLI parser."""
    assert Path(argv[0]).name == "headshots", f"{where}: {argv} does not run headshots"
    try:
        build_parser().parse_args(argv[1:])
    except SystemExit as exc:
        pytest.fail(f"{where}: `{shlex.join(argv)}` is not a headshots command ({exc.code})")


def _assert_settings_exist(text: str, where: str) -> None:
    names = set(VARIABLE.findall(text))
    unknown = {n for n in names if n.removeprefix(ENV_PREFIX).lower() not in Settings.model_fields}
    assert not unknown, f"{where} names variables Settings does not have: {sorted(unknown)}"


def test_redis_keeps_queue_keys() -> None:
    command = _compose()["services"]["redis"]["command"]
    flags = dict(zip(command[1::2], command[2::2], strict=True))
    assert flags["--appendonly"] == "yes"
    assert flags["--maxmemory-policy"] == "noeviction"


@pytest.mark.parametrize("name", OUR_SERVICES)
def test_compose_service_runs_a_real_command(name: str) -> None:
    service = _compose()["services"][name]
    _assert_cli(service["command"], f"compose service {name}")
    assert (DEPLOY / service["env_file"]).with_suffix(".example").name == ".env.example"
    assert "blobs:/data/blobs" in service["volumes"], "bot and worker must share the blobs"
    env = service["environment"]
    _assert_settings_exist("\n".join(env), f"compose service {name}")
    assert env["HEADSHOTS_REDIS_URL"].startswith("redis://redis:")
    port = env["HEADSHOTS_OPS_PORT"]
    assert f"127.0.0.1:{port}:{port}" in service["ports"]
    assert port in " ".join(service["healthcheck"]["test"])
    assert (ROOT / service["build"]["dockerfile"]).is_file()


def test_worker_reserves_an_nvidia_gpu() -> None:
    devices = _compose()["services"]["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]


@pytest.mark.parametrize("dockerfile", ["Dockerfile.bot", "Dockerfile.worker"])
def test_images_pin_the_projects_torch(dockerfile: str) -> None:
    text = (DEPLOY / dockerfile).read_text()
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch = next(p for p in pins if p.startswith("torch=="))
    assert f"ARG TORCH_VERSION={torch.removeprefix('torch==')}\n" in text
    cmd = re.search(r"^CMD (\[.*\])$", text, re.MULTILINE)
    assert cmd is not None
    _assert_cli(yaml.safe_load(cmd.group(1)), dockerfile)
    for path in re.findall(r"^COPY (\S+) ", text, re.MULTILINE):
        assert (ROOT / path).exists(), f"{dockerfile} copies {path}, which is not in the repo"


@pytest.mark.parametrize("dockerfile", ["Dockerfile.bot", "Dockerfile.worker"])
def test_images_copy_every_package_of_the_project(dockerfile: str) -> None:
    text = (DEPLOY / dockerfile).read_text()
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    packages = {pattern.removesuffix("*") for pattern in find["find"]["include"]}
    copied = set(re.findall(r"^COPY (\S+) ", text, re.MULTILINE))
    assert packages <= copied, f"{dockerfile} leaves out {sorted(packages - copied)}"


def test_worker_image_installs_cuda_torch() -> None:
    assert "download.pytorch.org/whl/cu" in (DEPLOY / "Dockerfile.worker").read_text()


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_systemd_unit_runs_a_real_command(path: Path) -> None:
    unit = _unit(path)
    assert {"Unit", "Service", "Install"} <= set(unit)
    service = dict(unit["Service"])
    _assert_cli(shlex.split(service["ExecStart"]), path.name)
    assert service["Restart"] == "on-failure"
    environment = [value for key, value in unit["Service"] if key == "Environment"]
    _assert_settings_exist("\n".join(environment), path.name)


def test_units_cover_the_bot_and_the_worker() -> None:
    commands = {shlex.split(dict(_unit(p)["Service"])["ExecStart"])[1] for p in UNITS}
    assert {"telegram", "worker"} <= commands


def test_env_example_is_generated_from_settings() -> None:
    current = (DEPLOY / ".env.example").read_text()
    assert current == render_env_example(), (
        "deploy/.env.example is stale: run `python -m ops.env_example > deploy/.env.example`"
    )


def test_env_example_names_every_setting_with_a_comment() -> None:
    lines = (DEPLOY / ".env.example").read_text().splitlines()
    for name in Settings.model_fields:
        variable = f"{ENV_PREFIX}{name.upper()}="
        found = [i for i, line in enumerate(lines) if line.lstrip("# ").startswith(variable)]
        assert found, f"deploy/.env.example lacks {variable}: run `python -m ops.env_example`"
        index = found[0]
        assert lines[index - 1].startswith("# ") and len(lines[index - 1]) > 5, name
    _assert_settings_exist("\n".join(lines), ".env.example")


def test_env_example_loads_as_settings(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((DEPLOY / ".env.example").read_text())
    settings = Settings(_env_file=tmp_path / ".env")  # type: ignore[call-arg]
    assert settings == Settings(_env_file=None)  # type: ignore[call-arg]
