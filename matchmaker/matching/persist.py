"""Save and load fitted matchers beside the versions they were built with."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .tokenizer import dictionary_version

MODEL_VERSION = "7"


class ModelVersionError(RuntimeError):
    """A saved model was built by another model, dictionary or library version."""


def versions() -> dict[str, str]:
    """The versions a saved model must match to be loaded."""
    import jieba
    import scipy
    import sklearn

    return {
        "model": MODEL_VERSION,
        "dictionary": dictionary_version(),
        "scikit-learn": sklearn.__version__,
        "jieba": jieba.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def save(matcher, path: str | Path) -> None:
    """Write the matcher with the current versions."""
    import joblib

    joblib.dump({"versions": versions(), "matcher": matcher}, path)


def load(path: str | Path):
    """Read a matcher, refusing one built by other versions."""
    import joblib

    payload = joblib.load(path)
    if not isinstance(payload, dict) or "versions" not in payload:
        raise ModelVersionError(f"{path}: not a matchmaker model file")
    saved, current = payload["versions"], versions()
    diffs = [
        f"{key} {saved.get(key)} (saved) != {current[key]} (running)"
        for key in current
        if saved.get(key) != current[key]
    ]
    if diffs:
        raise ModelVersionError(
            f"{path}: model was built with other versions, refit it: " + "; ".join(diffs)
        )
    return payload["matcher"]
