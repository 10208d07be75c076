"""The committed zips are reproducible, current, clean, and standalone."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.lambda_zip import DIST_DIR, HANDLER_NAMES, REPO_ROOT

PACKAGE_SCRIPT = REPO_ROOT / "dev" / "tools" / "package.py"
LAMBDA_PROVIDED = {"boto3", "botocore"}


def build(out_dir: Path) -> dict[str, bytes]:
    subprocess.run(
        [sys.executable, str(PACKAGE_SCRIPT), "--out-dir", str(out_dir)],
        check=True,
        capture_output=True,
    )
    return {path.name: path.read_bytes() for path in sorted(out_dir.glob("*.zip"))}


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory) -> dict[str, bytes]:
    return build(tmp_path_factory.mktemp("first"))


def test_building_twice_gives_byte_identical_zips(fresh_build, tmp_path):
    assert build(tmp_path) == fresh_build


def test_every_handler_has_a_zip(fresh_build):
    assert sorted(fresh_build) == sorted(f"{name}.zip" for name in HANDLER_NAMES)


@pytest.mark.parametrize("name", HANDLER_NAMES)
def test_committed_zip_is_what_the_current_sources_build(fresh_build, name):
    committed = DIST_DIR / f"{name}.zip"
    assert committed.read_bytes() == fresh_build[committed.name], (
        f"{committed} is stale: run `make package` and commit functions/dist"
    )


@pytest.mark.parametrize("name", HANDLER_NAMES)
def test_zip_has_handler_at_root_and_only_python_sources(name):
    with zipfile.ZipFile(DIST_DIR / f"{name}.zip") as archive:
        entries = archive.infolist()

    names = [entry.filename for entry in entries]
    assert "handler.py" in names
    assert "incident_ws/__init__.py" in names
    assert names == sorted(names)
    for entry in entries:
        assert entry.filename.endswith(".py"), entry.filename
        assert "__pycache__" not in entry.filename
        assert entry.date_time == (1980, 1, 1, 0, 0, 0)
        assert entry.external_attr >> 16 == 0o100644


def imported_top_level_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


@pytest.mark.parametrize("name", HANDLER_NAMES)
def test_lambda_code_imports_only_the_standard_library_and_boto3(name):
    with zipfile.ZipFile(DIST_DIR / f"{name}.zip") as archive:
        packaged = {n.split("/")[0].removesuffix(".py") for n in archive.namelist()}
        imported = set().union(
            *(imported_top_level_modules(archive.read(n).decode()) for n in archive.namelist())
        )

    allowed = set(sys.stdlib_module_names) | LAMBDA_PROVIDED | packaged
    assert imported - allowed == set()
