"""Find shipped model folders and verify every file against ``models/registry.json``.

The ``models/`` folder at the repository top level is installed as the package
``discourse._bundled``, so it is found from editable and non-editable installs
alike. ``DISCOURSE_MODELS_DIR`` overrides the location.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from discourse.core.errors import ModelError

REGISTRY_FILE = "registry.json"


def models_dir() -> Path:
    env = os.environ.get("DISCOURSE_MODELS_DIR")
    if env:
        return Path(env)
    try:
        import discourse._bundled as bundled

        return Path(next(iter(bundled.__path__)))
    except ImportError:  # running from a checkout without install
        return Path(__file__).resolve().parents[2] / "models"


@lru_cache(maxsize=256)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    st = path.stat()
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """A model as used in a run: what analysis.json lists under ``models``."""

    name: str
    version: str
    path: str
    files: dict[str, str]  # relative file name -> sha256
    runtime: str = ""  # what ran it where a model has a choice (``openvino-2026.4.1-bf16``, ``torch-fp32``)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version, "files": dict(self.files)}
        if self.runtime:
            out["runtime"] = self.runtime
        return out


def load_registry(root: Path | None = None) -> dict[str, Any]:
    root = root or models_dir()
    path = root / REGISTRY_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"model registry not found at {path}") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"model registry {path} is not valid JSON: {exc}") from exc
    return dict(data.get("models", {}))


def resolve(name: str, root: Path | None = None) -> tuple[Path, ModelRecord]:
    """Return the folder of shipped model ``name`` after checking every file's sha256."""
    root = root or models_dir()
    entries = load_registry(root)
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise ModelError(f"unknown model {name!r} (registry has: {known})")
    entry = entries[name]
    folder = root / entry.get("path", name)
    files: dict[str, str] = {}
    for rel, expected in entry.get("files", {}).items():
        f = folder / rel
        if not f.is_file():
            raise ModelError(f"model {name}: file {f} is missing")
        got = sha256_file(f)
        if got != expected:
            raise ModelError(
                f"model {name}: sha256 mismatch for {rel} (expected {expected[:12]}…, got {got[:12]}…);"
                " the file is corrupt or was changed without updating models/registry.json"
            )
        files[rel] = got
    return folder, ModelRecord(name, str(entry.get("version", "")), str(folder), files)


def locate(
    name: str, root: Path | None = None, folder: Path | None = None, verified: ModelRecord | None = None
) -> tuple[Path, ModelRecord]:
    """Where model ``name``'s files are, with their record: ``folder`` when given (its ``verified``
    record, or checksummed now as unregistered), else the registry's folder, sha256-checked."""
    if folder is None:
        return resolve(name, root)
    return Path(folder), verified or record_folder(name, "unregistered", Path(folder))


def record_folder(name: str, version: str, folder: Path, patterns: tuple[str, ...] = ("*",)) -> ModelRecord:
    """Checksum the files of a model that lives outside the registry (a user's
    Hugging Face folder or the MiniLM package) so the run records what it used."""
    files: dict[str, str] = {}
    for pat in patterns:
        for f in sorted(folder.glob(pat)):
            if f.is_file() and f.suffix in {".safetensors", ".bin", ".json", ".txt", ".model", ".npz", ".h5"}:
                files[f.name] = sha256_file(f)
    return ModelRecord(name, version, str(folder), files)


def register(name: str, folder: Path, version: str, root: Path | None = None, **extra: Any) -> None:
    """Write (or update) a registry entry with the sha256 of every file in ``folder``.
    Used by the training and conversion scripts."""
    root = root or models_dir()
    path = root / REGISTRY_FILE
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"models": {}}
    files = {
        str(f.relative_to(folder)): sha256_file(f)
        for f in sorted(folder.rglob("*"))
        if f.is_file() and f.name != "README.md" and "__pycache__" not in f.parts
    }
    data.setdefault("models", {})[name] = {
        "path": str(folder.relative_to(root)),
        "version": version,
        "files": files,
        **extra,
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
