"""The Classroom workflow template's `run:` steps, run as a GitHub-hosted runner runs them.

Each script is taken from the YAML as written and run with bash the way the runner does
(`bash --noprofile --norc -eo pipefail`), in the student's checkout, with the variables the
runner sets (GITHUB_WORKSPACE, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, the
workflow's own env) and none of this test run's PYTHON* settings.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "graders" / "templates" / "gradkit-classroom.yml"


def load(path: Path = TEMPLATE) -> dict:
    return yaml.safe_load(path.read_text())


def step(name: str, workflow: dict) -> dict:
    (job,) = workflow["jobs"].values()
    return next(step for step in job["steps"] if step.get("name") == name)


def runner_env(repo: Path, temp: Path, workflow: dict, **extra: str) -> dict[str, str]:
    """What a `run:` step finds in its environment (`temp` is $RUNNER_TEMP)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    temp.mkdir(parents=True, exist_ok=True)
    for name in ("summary.md", "output.txt"):
        (temp / name).touch()
    return {**env, **workflow["env"], "GITHUB_ACTIONS": "true", "CI": "true",
            "GITHUB_WORKSPACE": str(repo), "RUNNER_TEMP": str(temp),
            "GITHUB_STEP_SUMMARY": str(temp / "summary.md"),
            "GITHUB_OUTPUT": str(temp / "output.txt"), **extra}


def run_step(name: str, workflow: dict, repo: Path, env: dict[str, str],
             timeout: float = 120) -> subprocess.CompletedProcess:
    """Step `name`'s `run:` script, in the checkout `repo`."""
    script = step(name, workflow)["run"]
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)


def outputs(env: dict[str, str]) -> dict[str, str]:
    """The step outputs written to $GITHUB_OUTPUT (the last value of each name wins)."""
    text = Path(env["GITHUB_OUTPUT"]).read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


# What the Install step leaves in $RUNNER_TEMP/gradkit, with this checkout's grader standing in
# for the wheel's, so the Grade step runs exactly as written without a venv and a download
# (tests/test_classroom_isolation.py runs the real Install step).
STAND_IN = """#!/bin/sh
[ "$1 $2 $3" = "-I -m graders" ] || { echo "not called as: python -I -m graders" >&2; exit 97; }
shift 3
exec @PYTHON@ -I -c 'import sys; sys.path.insert(0, @ROOT@); sys.argv[0] = "gradkit"
from graders.cli import main; sys.exit(main())' "$@"
"""


def stand_in_install(temp: Path) -> None:
    bin_ = temp / "gradkit" / "venv" / "bin"
    bin_.mkdir(parents=True)
    (temp / "gradkit" / "out").mkdir()
    python = bin_ / "python"
    python.write_text(STAND_IN.replace("@PYTHON@", shlex.quote(sys.executable))
                      .replace("@ROOT@", json.dumps(str(ROOT))))
    python.chmod(0o755)
