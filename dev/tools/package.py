#!/usr/bin/env python3
"""Build functions/dist/<name>.zip for every Lambda handler, byte-for-byte reproducibly.

Each zip holds `handler.py` at its root and the shared `incident_ws` package beside it.
Entries are sorted, dated 1980-01-01, mode 0644, deflated at a fixed level; only `.py`
sources are packed (no `__pycache__`). Standard library only, so it runs on bare python3.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
LIBRARY = FUNCTIONS / "lib"
HANDLERS = ("connect", "disconnect", "stream_processor", "heartbeat", "findings")

ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
COMPRESS_LEVEL = 9


def sources(name: str) -> dict[str, Path]:
    """Archive name → source file for one handler's zip."""
    files = {"handler.py": FUNCTIONS / name / "handler.py"}
    for path in sorted(LIBRARY.rglob("*.py")):
        if "__pycache__" not in path.parts:
            files[path.relative_to(LIBRARY).as_posix()] = path
    return files


def build(name: str, out_dir: Path) -> Path:
    target = out_dir / f"{name}.zip"
    partial = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(partial, "w") as archive:
        for arcname, path in sorted(sources(name).items()):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_DATE_TIME)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # Unix, so the mode above is what unzip applies
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=COMPRESS_LEVEL)
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=FUNCTIONS / "dist")
    parser.add_argument("names", nargs="*", metavar="name", help=f"default: {' '.join(HANDLERS)}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(HANDLERS))
    if unknown:
        parser.error(f"unknown handler(s) {unknown}; choose from {list(HANDLERS)}")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in args.names or HANDLERS:
        print(build(name, args.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
