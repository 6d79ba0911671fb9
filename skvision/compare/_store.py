"""Resumable comparisons: every finished (feature set, repeat, fold) is written to a folder as it completes.

The folder holds ``manifest.json`` (what the stored splits were computed from)
and one pickle per split, ``<feature set>/r<repeat>-f<fold>.pkl``. Each file is
written to a temporary name and renamed (an atomic replace), so a process
killed at any moment leaves whole files only.

A run with ``resume=True`` reads back the splits whose fingerprint matches its
own and computes the others. Splits that a run does not take (no ``resume``, or
other settings) are set aside in ``.previous/`` rather than deleted, one run
back: a run with a wrong option, or without ``--resume`` by mistake, loses no
work, since a later run with the first run's settings and ``resume=True`` takes
them back. The fingerprint holds a hash of the images and
targets, of the folds, of the final estimator, of the scoring, of the tuning
settings, the seed and skvision's version (the manifest keeps them apart, so
that a mismatch says what changed), and a hash per feature set of its
transformer's parameters: a changed feature set recomputes its own splits only.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
from pathlib import Path

import joblib
import numpy as np

__all__ = ["FoldStore", "fingerprint"]

_MANIFEST = "manifest.json"
_FORMAT = 1
#: The sub-folder holding the splits of the run before (a dot: no feature set's slug starts with one).
_PREVIOUS = ".previous"

#: Names of the fingerprint's parts, as the messages show them.
_LABELS = {
    "data": "the images or targets",
    "folds": "the cross-validation folds (--cv, --repeats, --seed)",
    "estimator": "the final estimator (--classifier)",
    "scoring": "the scoring",
    "tuning": "the tuning settings (--tune, --tune-budget, --tune-cv)",
    "seed": "the seed",
    "version": "skvision's version",
}


def _by_content(value):
    """``value`` with its arrays as plain C-ordered ndarrays: their hash follows their values alone.

    joblib's hash tells a memmap from an array and C from Fortran order: the same
    images loaded with ``np.load(mmap_mode='r')`` set every stored fold aside.
    """
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value).view(np.ndarray)
    if isinstance(value, tuple):
        return tuple(_by_content(item) for item in value)
    return value


def fingerprint(value):
    """A hash of ``value``, the same in every process (joblib's); of its repr when it cannot be pickled.

    Arrays count by their values, dtype and shape, whatever their memory layout.

    Examples
    --------
    >>> images = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    >>> fingerprint((images, [0, 1])) == fingerprint((np.asfortranarray(images), [0, 1]))
    True
    """
    try:
        return joblib.hash(_by_content(value))
    except Exception:  # noqa: BLE001 - a lambda, a local class: fall back on the repr
        return joblib.hash(repr(value))


def _slug(name):
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", name)


def _atomic_write(path, data):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class FoldStore:
    """The splits of a comparison stored in ``folder`` (see the module's docstring).

    Parameters
    ----------
    folder : path-like
        Created if needed.
    components : dict of str -> str
        The run's fingerprint, part by part (``'data'``, ``'folds'``, ...).
    families : dict of str -> str
        The fingerprint of each feature set.
    resume : bool
        Read back the stored splits that match; ``False`` starts afresh (the
        splits of an earlier run in ``folder`` are deleted).
    say : callable
        ``say(message)`` for what happens to the stored splits.
    """

    def __init__(self, folder, components, families, *, resume, say=print):
        self.folder = Path(folder)
        self.components = dict(components)
        self.families = dict(families)
        self.say = say
        self.valid = {}  # feature set -> whether its stored splits may be read back
        self._kept = {}  # feature sets stored by an earlier run but not in this one: kept for a later run
        manifest = self._read_manifest()
        aside = self.folder / _PREVIOUS
        if resume and (manifest is None or self._changed(manifest)) and self._matches(aside):
            # The run before this one's settings: the two generations change places.
            say(f"--resume: the splits stored in {aside} match this run's settings; taking them back")
            self._set_aside(swap=True)
            manifest = self._read_manifest()
        if not resume:
            if self._holds_splits(self.folder, manifest):
                say(
                    f"the splits an earlier run stored in {self.folder} are set aside in {aside} (a later "
                    "--resume with that run's settings takes them back)"
                )
                self._set_aside()
        elif manifest is None:
            say(f"--resume: nothing stored in {self.folder} yet; starting afresh")
        else:
            changed = self._changed(manifest)
            if changed:
                what = ", ".join(_LABELS.get(key, key) for key in changed)
                kept = self._holds_splits(self.folder, manifest)
                say(
                    f"--resume: the splits stored in {self.folder} were computed with other settings "
                    f"(changed: {what}); starting afresh"
                    + (
                        f" (they are set aside in {aside}, where a later --resume with their settings "
                        "takes them back)"
                        if kept
                        else ""
                    )
                )
                if kept:
                    self._set_aside()
            else:
                stored = manifest.get("families", {})
                for name, key in self.families.items():
                    if name in stored and stored[name] != key:
                        say(f"--resume: {name} changed since its splits were stored; computing them again")
                        shutil.rmtree(self.folder / _slug(name), ignore_errors=True)
                    else:
                        self.valid[name] = name in stored
                self._kept = {name: key for name, key in stored.items() if name not in self.families}
        self._write_manifest()

    def _read_manifest(self, folder=None):
        try:
            return json.loads(((folder or self.folder) / _MANIFEST).read_text())
        except (OSError, ValueError):
            return None

    def _changed(self, manifest):
        """The fingerprint parts in which ``manifest`` differs from this run's (all, for an empty one)."""
        stored = manifest.get("components", {})
        changed = [
            key
            for key in sorted(set(stored) | set(self.components))
            if stored.get(key) != self.components.get(key)
        ]
        if manifest.get("format") != _FORMAT:
            changed = changed or ["version"]
        if "data" in changed and "folds" in changed:
            changed.remove("folds")  # the folds follow the images: no option of the user's changed
        return changed

    def _matches(self, folder):
        """Whether ``folder`` holds splits computed with this run's settings."""
        manifest = self._read_manifest(folder)
        return manifest is not None and not self._changed(manifest) and self._holds_splits(folder, manifest)

    @staticmethod
    def _holds_splits(folder, manifest):
        """Whether the run ``manifest`` describes stored any split in ``folder`` (one is work to keep)."""
        return any(
            next((folder / _slug(name)).glob("r*-f*.pkl"), None) is not None
            for name in (manifest or {}).get("families", {})
        )

    def _move_run(self, source, target):
        """Move the manifest and split folders of the run stored in ``source`` into ``target``."""
        manifest = self._read_manifest(source) or {}
        target.mkdir(parents=True, exist_ok=True)
        for name in manifest.get("families", {}):
            if (source / _slug(name)).exists():
                # A folder of that name in the target belongs to no stored run (not in its manifest).
                shutil.rmtree(target / _slug(name), ignore_errors=True)
                os.replace(source / _slug(name), target / _slug(name))
        if (source / _MANIFEST).exists():
            os.replace(source / _MANIFEST, target / _MANIFEST)

    def _set_aside(self, swap=False):
        """Move what an earlier run stored into ``.previous/``: replacing what was there, or, with
        ``swap``, trading places with it."""
        aside = self.folder / _PREVIOUS
        if swap:
            staging = self.folder / ".swap"
            shutil.rmtree(staging, ignore_errors=True)
            self._move_run(self.folder, staging)
            self._move_run(aside, self.folder)
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(staging, aside)
            return
        shutil.rmtree(aside, ignore_errors=True)
        self._move_run(self.folder, aside)

    def _write_manifest(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        families = {**self._kept, **self.families}
        manifest = {"format": _FORMAT, "components": self.components, "families": families}
        _atomic_write(self.folder / _MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())

    def _path(self, name, repeat, fold):
        return self.folder / _slug(name) / f"r{repeat}-f{fold}.pkl"

    def load(self, name):
        """The stored splits of ``name``: ``{(repeat, fold): record}`` (empty unless resuming a match)."""
        if not self.valid.get(name):
            return {}
        records = {}
        for path in sorted((self.folder / _slug(name)).glob("r*-f*.pkl")):
            try:
                record = pickle.loads(path.read_bytes())
            except Exception:  # noqa: BLE001 - a damaged file is computed again
                continue
            if record.get("key") == self.families[name]:
                records[(record["repeat"], record["fold"])] = record
        return records

    def save(self, name, record):
        """Store one finished split of ``name`` (atomically)."""
        record = dict(record, key=self.families[name])
        path = self._path(name, record["repeat"], record["fold"])
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
