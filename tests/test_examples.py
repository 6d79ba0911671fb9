"""Every script in examples/ runs to the end in its fast mode (SKVISION_FAST=1, a headless backend)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
#: Extra arguments for scripts whose fast mode is a command-line option.
ARGUMENTS = {"autoencoder_samples.py": ["--epochs", "2", "--output", "samples.png"]}
REQUIRED = {
    "lbp_textures.py",
    "hog_faces.py",
    "cnn_digits_gridsearch.py",
    "autoencoder_retrieval.py",
    "transfer_learning.py",
    "handcrafted_vs_learned.py",
}


def test_the_six_topics_have_an_example():
    assert REQUIRED <= {script.name for script in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_example_runs_in_fast_mode(script, tmp_path):
    env = {**os.environ, "SKVISION_FAST": "1", "MPLBACKEND": "Agg"}
    completed = subprocess.run(
        [sys.executable, str(script), *ARGUMENTS.get(script.name, [])],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip(), "an example should print what it found"
    assert "Traceback" not in completed.stderr
