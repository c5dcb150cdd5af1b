"""A clone of the repository with nothing beside it (no ../shared): the fast suite passes, and the tests that need
the paper's transcripts skip and say why.

The clone reuses this venv (its dependencies) with PYTHONPATH pointing at the clone's ``src``, so nothing is
installed again. It runs the committed HEAD: uncommitted changes are not in the clone.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from paper_data import REPO

pytestmark = pytest.mark.slow

FAST = "not harness and not browser and not local_model and not slow"


def test_fast_suite_passes_in_a_clone_without_shared(tmp_path) -> None:
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, check=False).returncode != 0:
        pytest.skip("not a git checkout: nothing to clone")
    clone = tmp_path / "work" / "peerpres"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)], check=True, timeout=300)
    assert not (clone.parent / "shared").exists()
    env = {k: v for k, v in os.environ.items() if k not in ("PEERPRES_PAPER_TRANSCRIPTS", "CI", "PYTHONPATH")}
    env["PYTHONPATH"] = str(clone / "src")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-rs", "-p", "no:cacheprovider", "-m", FAST],
        cwd=clone, env=env, capture_output=True, text=True, timeout=3600, check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "the paper's released transcripts are not at" in out, out[-3000:]
    # the code under test was the clone's, not this checkout's
    probe = subprocess.run([sys.executable, "-c", "import peerpres; print(peerpres.__file__)"], cwd=clone, env=env,
                           capture_output=True, text=True, check=True)
    assert probe.stdout.strip().startswith(str(clone / "src"))
