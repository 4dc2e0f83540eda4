#!/usr/bin/env python3
"""Validates kai's deployment files offline, with no Docker engine or cluster.

- docker-compose.temporal.yml against the Compose Specification JSON schema (the copy that
  check-jsonschema vendors), plus kai's rules: every service has a health check, volumes are named.
- every kustomization under deploy/ (the base and each overlay), rendered with `kubectl kustomize`,
  against the Kubernetes OpenAPI schemas (kubernetes-validate, strict), plus kai's rules: non-root,
  probes on /healthz and /readyz, resource requests, the worker's grace period above its shutdown
  grace time, a PodDisruptionBudget per Deployment.
- the Dockerfile with hadolint.

Install the tools into the project's venv:  .tools/bin/pip install -r scripts/requirements-ci.txt
Usage: .tools/bin/python scripts/validate-manifests.py [--dump-compose]
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
    deployments = [d for d in docs if d.get("kind") == "Deployment"]
    pdb_selectors = [
        (d["spec"].get("selector") or {}).get("matchLabels", {}) for d in docs if d.get("kind") == "PodDisruptionBudget"
    ]
    for dep in deployments:
        name = dep["metadata"]["name"]
        pod = dep["spec"]["template"]["spec"]
        sc = pod.get("securityContext") or {}
        report.check(sc.get("runAsNonRoot") is True and sc.get("runAsUser", 0) != 0, f"{rel}: {name} runs as a non-root user")
        for c in pod["containers"]:
            paths = probe_paths(c)
            report.check(paths == {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}, f"{rel}: {name}/{c['name']} probes /healthz and /readyz")
            report.check(bool(((c.get("resources") or {}).get("requests"))), f"{rel}: {name}/{c['name']} requests resources")
            report.check((c.get("securityContext") or {}).get("allowPrivilegeEscalation") is False, f"{rel}: {name}/{c['name']} forbids privilege escalation")
        labels = dep["spec"]["selector"]["matchLabels"]
        report.check(any(sel and all(labels.get(k) == v for k, v in sel.items()) for sel in pdb_selectors), f"{rel}: {name} has a PodDisruptionBudget")
        if name.endswith("worker"):
            period = pod.get("terminationGracePeriodSeconds", 30)
            report.check(period > grace, f"{rel}: {name} terminationGracePeriodSeconds {period} > worker_shutdown_grace_s {grace:g}")
            mounts = {m["mountPath"] for c in pod["containers"] for m in c.get("volumeMounts", [])}
            # KAI_DATA_DIR: repository mirrors and worktrees live on this volume.
            report.check("/var/lib/kai" in mounts, f"{rel}: {name} mounts its data directory /var/lib/kai (mirrors and worktrees)")


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
