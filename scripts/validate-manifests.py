#!/usr/bin/env python3
"""Validates kai's deployment files offline, with no Docker engine or cluster.

- docker-compose.temporal.yml against the Compose Specification JSON schema (the copy that
  check-jsonschema vendors), plus kai's rules: every service has a health check, volumes are named.
- every kustomization under deploy/ (the base and each overlay), rendered with `kubectl kustomize`,
  against the Kubernetes OpenAPI schemas (kubernetes-validate, strict), plus kai's rules: non-root,
  probes on /healthz and /readyz, resource requests, a PodDisruptionBudget per workload; the
  worker a StatefulSet (headless Service, a volume claim per pod mounted at KAI_DATA_DIR, its
  worker name from the pod name, grace period above its shutdown grace time); every other workload
  a Deployment without volume claims.
- the Dockerfile with hadolint.

Install the tools into the project's venv:  .tools/bin/pip install -r scripts/requirements-ci.txt
Usage: .tools/bin/python scripts/validate-manifests.py [--dump-compose | --render <kustomization dir>]
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.temporal.yml"
DOCKERFILE = ROOT / "Dockerfile"
KUSTOMIZE_TARGETS = [ROOT / "deploy" / "base", *sorted((ROOT / "deploy" / "overlays").glob("*/"))]
KUBERNETES_VERSION = "1.37.0"
INSTALL_HINT = "Install the validation tools: .tools/bin/pip install -r scripts/requirements-ci.txt"

try:
    import yaml
    import jsonschema
    import kubernetes_validate
    import check_jsonschema
except ImportError as err:  # pragma: no cover - reported to the user
    print(f"missing Python package: {err.name}. {INSTALL_HINT}", file=sys.stderr)
    sys.exit(2)


def find_tool(name: str) -> str:
    for candidate in (Path(sys.executable).parent / name, ROOT / ".tools" / "bin" / name):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if not found:
        print(f"missing tool: {name}. {INSTALL_HINT}", file=sys.stderr)
        sys.exit(2)
    return found


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def ok(self, what: str) -> None:
        print(f"ok   {what}")

    def fail(self, what: str) -> None:
        print(f"FAIL {what}")
        self.failures.append(what)

    def check(self, cond: bool, what: str) -> None:
        (self.ok if cond else self.fail)(what)


def load_compose() -> dict:
    with COMPOSE_FILE.open() as fh:
        return yaml.safe_load(fh)


def compose_schema() -> dict:
    path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(path.read_text())


def validate_compose(report: Report) -> None:
    doc = load_compose()
    validator_cls = jsonschema.validators.validator_for(compose_schema())
    errors = sorted(validator_cls(compose_schema()).iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        report.fail(f"{COMPOSE_FILE.name}: {'/'.join(map(str, e.path)) or '(root)'}: {e.message}")
    if not errors:
        report.ok(f"{COMPOSE_FILE.name} matches the Compose Specification schema")
    services = doc.get("services", {})
    declared = set((doc.get("volumes") or {}).keys())
    for name, svc in services.items():
        report.check("healthcheck" in svc, f"compose service {name} has a health check")
        for vol in svc.get("volumes", []) or []:
            source = vol.split(":", 1)[0] if isinstance(vol, str) else vol.get("source", "")
            if source.startswith((".", "/")):
                continue
            report.check(source in declared, f"compose service {name} uses the named volume {source}")
        for dep, cond in (svc.get("depends_on") or {}).items() if isinstance(svc.get("depends_on"), dict) else []:
            if cond.get("condition") == "service_healthy":
                report.check("healthcheck" in services.get(dep, {}), f"compose service {name} waits on {dep}, which has a health check")
    for name, cfg in (doc.get("configs") or {}).items():
        if "file" in cfg:
            report.check((ROOT / cfg["file"]).is_file(), f"compose config {name} file {cfg['file']} exists")


def render(target: Path) -> list[dict]:
    kubectl = find_tool("kubectl")
    out = subprocess.run([kubectl, "kustomize", str(target)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def kai_toml_from(docs: list[dict]) -> dict:
    for d in docs:
        if d.get("kind") == "ConfigMap" and "kai.toml" in (d.get("data") or {}):
            return tomllib.loads(d["data"]["kai.toml"])
    return {}


def probe_paths(container: dict) -> dict[str, str | None]:
    return {
        kind: ((container.get(kind) or {}).get("httpGet") or {}).get("path")
        for kind in ("livenessProbe", "readinessProbe")
    }


def validate_kustomization(report: Report, target: Path) -> None:
    rel = target.relative_to(ROOT)
    try:
        docs = render(target)
    except RuntimeError as err:
        report.fail(f"{rel}: kubectl kustomize failed: {err}")
        return
    report.ok(f"{rel}: rendered {len(docs)} resources")
    for d in docs:
        ident = f"{rel}: {d.get('kind')}/{(d.get('metadata') or {}).get('name')}"
        try:
            kubernetes_validate.validate(d, KUBERNETES_VERSION, strict=True)
            report.ok(f"{ident} is valid against Kubernetes {KUBERNETES_VERSION} (strict)")
        except kubernetes_validate.ValidationError as err:
            report.fail(f"{ident}: {'/'.join(map(str, err.path))}: {err.message}")
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as err:
            report.fail(f"{ident}: no schema: {err}")

    kai = kai_toml_from(docs)
    report.check(bool(kai), f"{rel}: a ConfigMap carries kai.toml")
    grace = float((kai.get("limits") or {}).get("worker_shutdown_grace_s", 30))
    workloads = [d for d in docs if d.get("kind") in ("Deployment", "StatefulSet")]
    pdb_selectors = [
        (d["spec"].get("selector") or {}).get("matchLabels", {}) for d in docs if d.get("kind") == "PodDisruptionBudget"
    ]
    headless = {d["metadata"]["name"] for d in docs if d.get("kind") == "Service" and d["spec"].get("clusterIP") == "None"}
    for wl in workloads:
        name = wl["metadata"]["name"]
        pod = wl["spec"]["template"]["spec"]
        sc = pod.get("securityContext") or {}
        report.check(sc.get("runAsNonRoot") is True and sc.get("runAsUser", 0) != 0, f"{rel}: {name} runs as a non-root user")
        for c in pod["containers"]:
            paths = probe_paths(c)
            report.check(paths == {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}, f"{rel}: {name}/{c['name']} probes /healthz and /readyz")
            report.check(bool(((c.get("resources") or {}).get("requests"))), f"{rel}: {name}/{c['name']} requests resources")
            report.check((c.get("securityContext") or {}).get("allowPrivilegeEscalation") is False, f"{rel}: {name}/{c['name']} forbids privilege escalation")
        labels = wl["spec"]["selector"]["matchLabels"]
        report.check(any(sel and all(labels.get(k) == v for k, v in sel.items()) for sel in pdb_selectors), f"{rel}: {name} has a PodDisruptionBudget")
        if name.endswith("worker"):
            validate_worker(report, rel, wl, grace, headless)
        else:
            # Webhook, gateway, ingester: stateless, so any replica may take any request or row.
            claims = [v["name"] for v in pod.get("volumes", []) if "persistentVolumeClaim" in v or "ephemeral" in v]
            report.check(
                wl["kind"] == "Deployment" and not wl["spec"].get("volumeClaimTemplates") and not claims,
                f"{rel}: {name} is a Deployment without volume claims (stateless)",
            )


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def validate_worker(report: Report, rel: Path, wl: dict, grace: float, headless: set[str]) -> None:
    """The worker holds each issue's workspace (worktree and engine homes) on its own volume and
    polls a queue named from its worker name, so both must survive a restart of the pod."""
    name = wl["metadata"]["name"]
    spec = wl["spec"]
    pod = spec["template"]["spec"]
    report.check(wl["kind"] == "StatefulSet", f"{rel}: {name} is a StatefulSet (a volume and a name per pod)")
    report.check(spec.get("serviceName") in headless, f"{rel}: {name} is governed by the headless Service {spec.get('serviceName')}")
    report.check(spec.get("podManagementPolicy") == "Parallel", f"{rel}: {name} starts and replaces its pods in parallel")
    report.check(spec.get("replicas", 1) >= 2, f"{rel}: {name} runs {spec.get('replicas', 1)} replicas (at least 2)")
    period = pod.get("terminationGracePeriodSeconds", 30)
    report.check(period > grace, f"{rel}: {name} terminationGracePeriodSeconds {period} > worker_shutdown_grace_s {grace:g}")
    claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
    for c in pod["containers"]:
        env = env_of(c)
        data_dir = (env.get("KAI_DATA_DIR") or {}).get("value")
        mounted = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        report.check(
            data_dir is not None and mounted.get(data_dir) in claims,
            f"{rel}: {name}/{c['name']} mounts a volume claim at its data directory KAI_DATA_DIR={data_dir}",
        )
        field = (((env.get("KAI_WORKER_NAME") or {}).get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
        report.check(field == "metadata.name", f"{rel}: {name}/{c['name']} takes KAI_WORKER_NAME from the pod name")


def lint_dockerfile(report: Report) -> None:
    hadolint = find_tool("hadolint")
    out = subprocess.run([hadolint, "--config", str(ROOT / ".hadolint.yaml"), str(DOCKERFILE)], capture_output=True, text=True)
    if out.returncode == 0:
        report.ok("Dockerfile passes hadolint")
    else:
        for line in (out.stdout + out.stderr).strip().splitlines():
            report.fail(f"hadolint: {line}")


def main(argv: list[str]) -> int:
    if "--dump-compose" in argv:
        json.dump(load_compose(), sys.stdout)
        return 0
    if "--render" in argv:
        json.dump(render(Path(argv[argv.index("--render") + 1]).resolve()), sys.stdout)
        return 0
    report = Report()
    validate_compose(report)
    for target in KUSTOMIZE_TARGETS:
        validate_kustomization(report, target)
    lint_dockerfile(report)
    if report.failures:
        print(f"\n{len(report.failures)} check(s) failed")
        return 1
    print("\nall deployment files are valid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
