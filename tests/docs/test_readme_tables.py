"""README Inputs/Outputs tables are generated from variables.tf/outputs.tf and kept in sync,
for the root module and for every module under modules/."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TFDOCS = ROOT / "dev" / "tools" / "tfdocs.py"
MODULE_DIRS = [ROOT, *sorted(path.parent for path in ROOT.glob("modules/*/main.tf"))]


def run_tfdocs(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TFDOCS), *args], capture_output=True, text=True, check=False, cwd=cwd
    )


@pytest.fixture
def module_copy(tmp_path: Path) -> Path:
    for name in ("variables.tf", "outputs.tf", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The root module and every internal module's documented files, in a scratch tree."""
    for module_dir in MODULE_DIRS:
        copy = tmp_path / module_dir.relative_to(ROOT)
        copy.mkdir(parents=True, exist_ok=True)
        for name in ("variables.tf", "outputs.tf", "README.md"):
            shutil.copy(module_dir / name, copy / name)
    return tmp_path


@pytest.mark.parametrize(
    "module_dir", MODULE_DIRS, ids=[str(d.relative_to(ROOT)) or "root" for d in MODULE_DIRS]
)
def test_readme_tables_match_variables_and_outputs(module_dir: Path) -> None:
    result = run_tfdocs("--check", "--module-dir", str(module_dir))
    assert result.returncode == 0, result.stderr


def test_check_without_arguments_covers_the_root_and_every_module() -> None:
    result = run_tfdocs("--check")
    assert result.returncode == 0, result.stderr


def test_stale_internal_module_readme_fails_the_whole_check(tree_copy: Path) -> None:
    with (tree_copy / "modules" / "heartbeat" / "variables.tf").open("a", encoding="utf-8") as f:
        f.write('\nvariable "new_input" {\n  description = "Added."\n  type = bool\n}\n')

    result = run_tfdocs("--check", cwd=tree_copy)

    assert result.returncode == 1
    assert "modules/heartbeat/README.md" in result.stderr


def test_module_without_readme_fails_the_check(tree_copy: Path) -> None:
    (tree_copy / "modules" / "heartbeat" / "README.md").unlink()

    assert run_tfdocs("--check", cwd=tree_copy).returncode == 1


def test_new_variable_makes_the_readme_stale(module_copy: Path) -> None:
    with (module_copy / "variables.tf").open("a", encoding="utf-8") as handle:
        handle.write('\nvariable "new_input" {\n  description = "Added."\n  type = bool\n}\n')

    result = run_tfdocs("--check", "--module-dir", str(module_copy))

    assert result.returncode == 1
    assert "out of date" in result.stderr


def test_regenerated_tables_list_the_new_variable_as_required(module_copy: Path) -> None:
    with (module_copy / "variables.tf").open("a", encoding="utf-8") as handle:
        handle.write('\nvariable "new_input" {\n  description = "Added."\n  type = bool\n}\n')

    assert run_tfdocs("--module-dir", str(module_copy)).returncode == 0

    readme = (module_copy / "README.md").read_text(encoding="utf-8")
    assert "| `new_input` | Added. | `bool` | n/a | yes |" in readme
    assert run_tfdocs("--check", "--module-dir", str(module_copy)).returncode == 0


def test_removed_output_makes_the_readme_stale(module_copy: Path) -> None:
    outputs = (module_copy / "outputs.tf").read_text(encoding="utf-8")
    start = outputs.index('output "dead_letter_queue_url"')
    (module_copy / "outputs.tf").write_text(outputs[:start], encoding="utf-8")

    assert run_tfdocs("--check", "--module-dir", str(module_copy)).returncode == 1


def test_text_outside_the_markers_is_kept(module_copy: Path) -> None:
    readme = module_copy / "README.md"
    readme.write_text("# Title\n\nHand-written.\n\n" + readme.read_text(encoding="utf-8"))

    assert run_tfdocs("--module-dir", str(module_copy)).returncode == 0

    assert readme.read_text(encoding="utf-8").startswith("# Title\n\nHand-written.\n\n")
