#!/usr/bin/env python3
"""Structural checks of deploy/compose.yaml that `docker compose config` would not make, and the
ones it would, for machines without compose: the YAML parses; every service has a healthcheck;
every depends_on names a service and waits for it to be healthy; build files and mounted files
exist; every required ${VAR:?} is in deploy/env.example; the worker and cron connect to Postgres
directly and only the gateway goes through pgbouncer, in session mode."""
import os
import re
import sys

import yaml

path = sys.argv[1] if len(sys.argv) > 1 else "deploy/compose.yaml"
base = os.path.dirname(path)
text = open(path).read()
doc = yaml.safe_load(text)
problems = []
services = doc.get("services") or {}
if not services:
    problems.append("no services")
for name, svc in services.items():
    if "healthcheck" not in svc:
        problems.append(f"{name}: no healthcheck")
    for dep, cond in (svc.get("depends_on") or {}).items():
        if dep not in services:
            problems.append(f"{name}: depends on unknown service {dep}")
        elif (cond or {}).get("condition") != "service_healthy":
            problems.append(f"{name}: waits for {dep} without condition: service_healthy")
    build = svc.get("build")
    if build:
        df = os.path.join(base, build.get("context", "."), build.get("dockerfile", "Dockerfile"))
        if not os.path.exists(df):
            problems.append(f"{name}: build file {df} does not exist")
    for vol in svc.get("volumes") or []:
        src = vol.split(":")[0]
        if src.startswith("."):
            if not os.path.exists(os.path.join(base, src)):
                problems.append(f"{name}: mounts {src}, which does not exist")
        elif src not in (doc.get("volumes") or {}):
            problems.append(f"{name}: volume {src} is not declared")
example = open(os.path.join(base, "env.example")).read()
for var in sorted(set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))):
    if not re.search(rf"^{var}=", example, re.M):
        problems.append(f"${{{var}}} is required but not in deploy/env.example")
def url(name):
    return ((services.get(name) or {}).get("environment") or {}).get("DATABASE_URL", "")
for name in ("worker", "cron", "backup"):
    if "@db:" not in url(name):
        problems.append(f"{name}: must connect to Postgres directly (LISTEN, migrations, advisory locks), not {url(name)!r}")
if "@pgbouncer:" not in url("gateway"):
    problems.append("gateway: expected to go through pgbouncer")
mode = ((services.get("pgbouncer") or {}).get("environment") or {}).get("PGBOUNCER_POOL_MODE")
if mode != "session":
    problems.append(f"pgbouncer: pool mode {mode!r}; only session mode keeps the roles working")
if problems:
    for p in problems:
        print(f"check-compose: {path}: {p}", file=sys.stderr)
    sys.exit(1)
print(f"check-compose: {path}: {len(services)} services, healthchecks, dependencies and connections are consistent")
