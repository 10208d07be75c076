"""The previous `stream_processor`, built from a git ref, to measure side by side with this one.

`git archive <ref>` of `functions/` and `dev/tools/` into a scratch directory, then that
tree's own `dev/tools/package.py`: the zip is what the ref would have committed, whatever has
changed in the packaging since.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from dev.harness.paths import REPO_ROOT


class PreviousBuildError(RuntimeError):
    """The previous handler could not be built; the message says why."""


def build_previous(ref: str, out_dir: Path) -> Path:
    """`out_dir/stream_processor.zip` built from `ref`; PreviousBuildError when git or the ref
    is missing."""
    if shutil.which("git") is None:
        raise PreviousBuildError("git is not installed: the previous handler cannot be built")
    commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit is None:
        raise PreviousBuildError(
            f"git ref {ref!r} is not in this repository (BENCH_BASELINE_REF in mk/bench.mk); "
            "fetch it or set BENCH_BASELINE_REF to a commit that is"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-previous-") as scratch:
        archive = Path(scratch) / "tree.tar"
        done = subprocess.run(
            ["git", "archive", "--output", str(archive), commit, "functions", "dev/tools"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise PreviousBuildError(f"git archive {commit} failed: {done.stderr.strip()}")
        tree = Path(scratch) / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(tree, filter="data")
        done = subprocess.run(
            [
                sys.executable,
                str(tree / "dev" / "tools" / "package.py"),
                "--out-dir",
                str(out_dir),
                "stream_processor",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise PreviousBuildError(f"packaging {commit} failed: {done.stderr.strip()}")
    (out_dir / "COMMIT").write_text(commit + "\n")
    return out_dir / "stream_processor.zip"


def _git(*arguments: str) -> str | None:
    done = subprocess.run(
        ["git", *arguments], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None
