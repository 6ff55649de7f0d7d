"""Save and load fitted models in the skops format, never through pickle.

skops rebuilds only the types it is told to trust: the types it trusts by default
(scikit-learn estimators, numpy arrays, builtins) plus `TRUSTED_TYPES`. An artifact
naming any other type is rejected before anything in it is built, so a tampered or
uploaded file cannot run code when loaded.
"""

import hashlib

import skops.io as sio

from o2c.insights.errors import InsightsError

TRUSTED_TYPES = [
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]


def dump_estimators(estimators: dict) -> tuple[bytes, str]:
    """Return the skops bytes of a dict of fitted estimators, and their SHA-256."""
    data = sio.dumps(estimators)
    return data, hashlib.sha256(data).hexdigest()


def load_estimators(data: bytes, sha256: str) -> dict:
    """Return the estimators saved by `dump_estimators`, after checking every type.

    Raises `InsightsError` when the bytes changed since they were saved or name a type
    outside the trusted list.
    """
    data = bytes(data)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise InsightsError(
            "model_artifact_changed",
            "The saved model does not match its checksum; retrain it with `o2c insights train`.",
        )
    untrusted = [name for name in sio.get_untrusted_types(data=data) if name not in TRUSTED_TYPES]
    if untrusted:
        raise InsightsError(
            "model_artifact_untrusted",
            "The saved model contains types that are not trusted ({types}); retrain it with "
            "`o2c insights train`.",
            types=", ".join(untrusted),
        )
    return sio.loads(data, trusted=TRUSTED_TYPES)
