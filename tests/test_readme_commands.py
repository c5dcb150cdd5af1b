"""Every command in the README's ```bash blocks runs, as written or as close as an offline machine allows.

Each command gets one rule below. A command that needs a real model or key is checked with ``--dry-run`` (peerpres
run) or ``--help``, or its model is swapped for Inspect's offline ``mockllm/model``; ``make`` targets with
``make -n``; root scripts with ``bash -n``. A README command without a rule fails the test, so new commands must be
added here. Commands run in a temporary folder with ``../shared/paper-transcripts`` beside it (a link to the
paper's transcripts when present) and ``logs/`` holding a small offline run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from paper_data import PAPER_ROOT, REPO

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
MOCK = "mockllm/model"


def readme_commands(text: str) -> list[str]:
    """The commands of every ```bash block, continuation lines joined and comments dropped."""
    out: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for cmd in block.replace("\\\n", " ").splitlines():
            words = shlex.split(cmd, comments=True)
            if words:
                out.append(shlex.join(words))
    return out


COMMANDS = readme_commands((REPO / "README.md").read_text())


def _swap_models(words: list[str]) -> list[str]:
    out = list(words)
    for i, w in enumerate(out):
        if i and out[i - 1] == "--model" and not w.startswith("peerpres/"):
            out[i] = MOCK
        if i and out[i - 1] == "--model-role" and w.startswith("grader="):
            out[i] = f"grader={MOCK}"
        if i and out[i - 1] == "--epochs":
            out[i] = "1"
    return out


def plan(cmd: str) -> tuple[list[str] | None, str]:
    """(argv to run, or None for a check done in the test itself; what the rule is)."""
    w = shlex.split(cmd)
    if w[0] == "make":
        return ["make", "-n", "-C", str(REPO), *w[1:]], "make -n (the target exists and expands)"
    if w[:2] == ["sudo", "bash"]:
        return ["bash", "-n", str(REPO / w[2])], "bash -n (root script: syntax only)"
    if w[0] in ("source", "export"):
        return None, "environment"
    if w[0] == "peerpres":
        sub = w[1] if len(w) > 1 else ""
        if sub == "run":
            return [*w, *([] if "--dry-run" in w else ["--dry-run"])], "dry run (real model)"
        if sub in ("rejudge", "calibrate"):
            return [w[0], sub, "--help"], "--help (needs a grader model)"
        if sub in ("report", "compare", "replay", "--help", "scenarios"):
            return w, "as written (offline)"
    if w[:2] == ["inspect", "score"]:
        return ["inspect", "score", "--help"], "--help (needs a grader model)"
    if w[:2] == ["inspect", "eval"]:
        if any(x.startswith("harness=") for x in w):
            return ["inspect", "eval", "--help"], "--help (production harness: root, CLIs and a real model)"
        model = w[w.index("--model") + 1]
        if model.startswith("peerpres/"):
            return w, "as written (scripted provider)"
        return [*_swap_models(w), "--limit", "1"], "model swapped for mockllm/model, one sample"
    raise AssertionError(f"README command without a rule in {__file__}: {cmd}")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readme")
    work = root / "peerpres"
    work.mkdir()
    (root / "shared").mkdir()
    if PAPER_ROOT.is_dir():
        (root / "shared" / "paper-transcripts").symlink_to(PAPER_ROOT.resolve())
    env = _env()
    # logs/ for `peerpres report logs/` and `rejudge logs/`; logs-before/ and logs-after/ for `compare`
    subprocess.run([str(BIN / "peerpres"), "run", "smoke", "-m", "peerpres/synthetic", "--log-dir", "logs", "--workers", "1"],
                   cwd=work, env=env, check=True, capture_output=True, timeout=600)
    for d in ("logs-before", "logs-after"):
        (work / d).symlink_to(work / "logs")
    return work


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # what `source .venv/bin/activate` does
    return env


def test_readme_has_commands_and_every_one_has_a_rule() -> None:
    assert len(COMMANDS) >= 15
    for c in COMMANDS:
        plan(c)
    # every command is consistent with the PATH the README sets up: no .venv/bin prefix mixed in
    assert not [c for c in COMMANDS if ".venv/bin/" in c and not c.startswith("source")]


def _marks(cmd: str) -> list[pytest.MarkDecorator]:
    return [pytest.mark.paper] if "paper-transcripts" in cmd else []


@pytest.mark.parametrize("cmd", [pytest.param(c, marks=_marks(c), id=c[:80]) for c in COMMANDS])
def test_readme_command_runs(cmd: str, workdir: Path) -> None:
    argv, rule = plan(cmd)
    if argv is None:
        w = shlex.split(cmd)
        if w[0] == "source":
            assert (BIN / "activate").exists(), "the README's `source .venv/bin/activate` needs the venv's activate script"
        return
    env = _env()
    if argv[0] in ("peerpres", "inspect"):
        argv = [str(BIN / argv[0]), *argv[1:]]
    proc = subprocess.run(argv, cwd=workdir, env={**env, "OPENAI_API_KEY": "sk-test-not-used"}, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, f"{cmd}\n[{rule}] -> {argv}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
