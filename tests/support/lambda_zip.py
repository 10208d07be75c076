"""Import Lambda code from the built zips, so tests exercise exactly what ships.

Every call extracts the zip afresh and imports its modules under their real names
(`handler`, `incident_ws...`), then restores `sys.modules` and `sys.path`: two handlers,
or one handler loaded twice with different environments, never share module state.
"""

from __future__ import annotations

import atexit
import importlib
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[2]
DIST_DIR = REPO_ROOT / "functions" / "dist"
HANDLER_NAMES = ("connect", "disconnect", "stream_processor", "heartbeat", "findings")

_extract_root = Path(tempfile.mkdtemp(prefix="lambda-zips-"))
atexit.register(shutil.rmtree, _extract_root, ignore_errors=True)


def load_handler(name: str, dist_dir: Path | str = DIST_DIR) -> ModuleType:
    """A freshly imported `handler` module of `<dist_dir>/<name>.zip`.

    Its module-level code (configuration from `os.environ`, AWS clients) runs now, so set
    the environment (and start any AWS mock) before calling this.
    """
    return load_module(name, "handler", dist_dir)


def load_module(name: str, module: str, dist_dir: Path | str = DIST_DIR) -> ModuleType:
    """A freshly imported module (e.g. `incident_ws.messages`) of `<dist_dir>/<name>.zip`."""
    archive = Path(dist_dir) / f"{name}.zip"
    if not archive.is_file():
        raise FileNotFoundError(f"{archive} is missing: run `make package`")
    target = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_extract_root))
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(target)
    return _import_isolated(module, target)


def _import_isolated(module: str, path: Path) -> ModuleType:
    top_level = {p.stem for p in path.iterdir() if p.suffix == ".py" or p.is_dir()}
    saved = {k: v for k, v in sys.modules.items() if k.split(".")[0] in top_level}
    for key in saved:
        del sys.modules[key]
    sys.path.insert(0, str(path))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(path))
        for key in [k for k in sys.modules if k.split(".")[0] in top_level]:
            del sys.modules[key]
        sys.modules.update(saved)
