"""Train the example bot only when what it is trained from has changed.

The model file is named by a hash of its inputs, so `make run` and the test suite share one cache:
a second run finds `models/<hash>.tar.gz` and starts at once, and two processes asking at the same
time train once (a file lock).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# What a trained model depends on. The rules file is read by HandoffPolicy at training time.
MODEL_INPUTS = ("config.yml", "domain.yml", "data", "handoff.yml")


def model_inputs_hash(project_dir: Path = PROJECT_DIR, config: Path | None = None) -> str:
    """A digest of every training input's path and bytes, plus the Rasa version.

    `config` stands for `config.yml` (a variant of the pipeline and policies, as the overhead
    benchmark trains); the digest then covers that file's bytes instead.
    """
    digest = hashlib.sha256()
    for name in MODEL_INPUTS:
        path = project_dir / name
        if name == "config.yml" and config is not None:
            digest.update(b"config.yml\0" + config.read_bytes() + b"\0")
            continue
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if not file.exists():
                continue
            digest.update(str(file.relative_to(project_dir)).encode())
            digest.update(b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    digest.update(_rasa_version().encode())
    return digest.hexdigest()[:16]


def ensure_model(
    project_dir: Path = PROJECT_DIR,
    python: str = sys.executable,
    config: Path | None = None,
    prefix: str = "bot",
) -> Path:
    """Return the model for the current inputs, training it first if it does not exist yet.

    With `config`, the model is trained from that file instead of `config.yml` (same domain and
    data) and named `<prefix>-<hash>`, so variants are cached beside the example bot's model.
    """
    models_dir = project_dir / "models"
    models_dir.mkdir(exist_ok=True)
    name = f"{prefix}-{model_inputs_hash(project_dir, config)}"
    model = models_dir / f"{name}.tar.gz"
    with open(models_dir / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if model.exists():
            return model
        print(f"training {model.name} (inputs changed since the last model)...", flush=True)
        command = [python, "-m", "rasa", "train", "--fixed-model-name", name]
        command += ["--out", str(models_dir)]
        if config is not None:
            command += ["--config", str(config)]
        subprocess.run(
            command,
            cwd=project_dir,
            check=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        if not model.exists():
            raise RuntimeError(f"rasa train finished but {model} was not written")
        return model


def _rasa_version() -> str:
    from importlib.metadata import version

    return version("rasa")


if __name__ == "__main__":
    print(ensure_model())
