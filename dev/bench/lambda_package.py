"""A function's package as Lambda's init phase finds it. Imports only the standard library: a
cold start measured after importing this module times everything the handler imports."""

from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path


def unpack_onto_path(package: Path) -> None:
    """Extract the function's zip to a directory of its own and put it first on sys.path, so
    that `import handler` imports it from there."""
    code_dir = tempfile.mkdtemp(prefix=f"{package.stem}-bench-")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(code_dir)
    sys.path.insert(0, code_dir)
