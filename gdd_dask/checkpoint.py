"""Checkpoints: a solver's whole state on disk, written atomically, read without pickle.

A fit started with ``checkpoint="path"`` saves its solver's state every
``checkpoint_every`` iterations; the same call run again (after the client process was
killed, say) finds the file and continues from it, to the same bits as a fit that was
never interrupted. The state is what each solver needs to go on exactly: parameters,
objective and gradient, step sizes, the update rule's moments and step count, the
random generator's state, the stopping test's counters, the history -- and for
L-BFGS-B, whose memory lives in SciPy's work arrays, the log of the evaluations it
asked for, which it is replayed on (no passes) to rebuild that memory exactly.

The file is a NumPy ``.npz`` of plain float arrays plus one JSON string, written to a
temporary file in the same directory and renamed over the old one (``os.replace``), so
a crash leaves the old checkpoint or the new one, never half of one; it is read with
``allow_pickle=False``. Its ``fingerprint`` -- the loss, penalty, solver and its
options, ``tol``, the starting point, the data's size, weight sums and Dask token, the
chunking and reduction tree -- must equal the new call's, and on resuming the solver
evaluates the objective at the saved point and checks it gets the saved bits: a
checkpoint of other data or other settings is refused with a ``ValueError``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["Checkpoint", "fingerprint"]

FORMAT = "gdd-dask-checkpoint/1"


def _jsonable(value):
    """Options as JSON: numbers, strings, lists and dicts as they are, anything else
    (a schedule, a rule) by its qualified name."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items())}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
    return getattr(value, "__qualname__", type(value).__qualname__)


def fingerprint(objective, *, solver, tol, x0, options, precondition=False):
    """A digest of everything a resumed fit must share with the fit that saved."""
    engine = objective.engine
    description = {
        "loss": repr(objective.loss), "penalty": repr(objective.penalty),
        "fit_intercept": objective.fit_intercept, "n_params": objective.n_params,
        "n_samples": objective.n_samples, "weight_sum": objective.weight_sum.hex(),
        "data": engine.data_token, "row_chunks": list(engine.row_chunks),
        "split_every": engine.split_every, "solver": solver, "tol": float(tol),
        "x0": _jsonable(np.asarray(x0, dtype=np.float64)), "options": _jsonable(options),
        "precondition": bool(precondition),
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()


def _flatten(prefix, value, arrays, meta):
    """Split a state into float arrays and JSON (NamedTuples by field, recursively)."""
    if hasattr(value, "_fields"):
        meta[prefix] = {"namedtuple": type(value).__qualname__, "fields": list(value._fields)}
        for field in value._fields:
            _flatten(f"{prefix}.{field}", getattr(value, field), arrays, meta)
    elif isinstance(value, np.ndarray):
        arrays[prefix] = np.asarray(value, dtype=np.float64)
    else:
        meta[prefix] = _jsonable(value)


class Checkpoint:
    """The checkpoint file of one fit: :meth:`load` what is there, :meth:`save` every
    ``every`` iterations (:meth:`due`)."""

    def __init__(self, path, *, every=1, fingerprint, solver):
        self.path, self.solver = Path(os.fspath(path)), solver
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"checkpoint_every must be an integer >= 1; got {every!r}")
        self.every, self.fingerprint = int(every), fingerprint
        if self.path.is_dir():
            raise ValueError(f"checkpoint {str(self.path)!r} is a directory, not a file")

    def due(self, nit):
        return nit % self.every == 0

    def save(self, state):
        """Write ``state`` (a dict of arrays, numbers, strings, NamedTuples of them),
        atomically."""
        arrays, meta = {}, {}
        for key, value in state.items():
            _flatten(key, value, arrays, meta)
        header = {"format": FORMAT, "fingerprint": self.fingerprint, "solver": self.solver,
                  "meta": meta}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                             dir=self.path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, __header__=np.array(json.dumps(header)), **arrays)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def load(self, types=()):
        """The saved state (``None`` when there is no file); NamedTuples rebuilt from
        ``types`` (the classes the solver saves). Refuses a file of another format,
        fit or solver."""
        if not self.path.exists():
            return None
        try:
            with np.load(self.path, allow_pickle=False) as file:
                header = json.loads(str(file["__header__"]))
                arrays = {k: file[k] for k in file.files if k != "__header__"}
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"checkpoint {str(self.path)!r} is not a gdd-dask checkpoint: "
                             f"{exc}") from None
        if header.get("format") != FORMAT:
            raise ValueError(f"checkpoint {str(self.path)!r} has format "
                             f"{header.get('format')!r}, not {FORMAT!r}")
        if header["fingerprint"] != self.fingerprint or header["solver"] != self.solver:
            raise ValueError(
                f"checkpoint {str(self.path)!r} was written by another fit (other data, "
                f"or other settings: loss, penalty, solver {header['solver']!r} and its "
                "options, tol, x0, chunking); remove it or give another path")
        return _unflatten(header["meta"], arrays, {t.__qualname__: t for t in types})

    def verify(self, saved, fresh, what="objective and gradient"):
        """Refuse to resume when re-evaluating the saved point gives other bits."""
        if not all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(saved, fresh)):
            raise ValueError(
                f"checkpoint {str(self.path)!r}: the {what} at its saved point differ from "
                "what this data gives there; it was written for other data")


def _unflatten(meta, arrays, types):
    state = {}
    names = set(meta) | set(arrays)
    for key in sorted(k for k in names if "." not in k):
        state[key] = _build(key, meta, arrays, types)
    return state


def _build(prefix, meta, arrays, types):
    if prefix in arrays:
        return arrays[prefix]
    value = meta[prefix]
    if isinstance(value, dict) and "namedtuple" in value:
        cls = types[value["namedtuple"]]
        return cls(*(_build(f"{prefix}.{f}", meta, arrays, types) for f in value["fields"]))
    return value
