"""Running the handler with a Lambda-sized share of one CPU: a cgroup CPU quota.

Lambda gives a function CPU in proportion to its memory: 1,769 MB is one vCPU, so the module's
default 256 MB is about 0.145 of one. The benchmark's worker joins a cgroup whose quota is that
share (cgroup v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us` under /sys/fs/cgroup/cpu; cgroup
v2: `cpu.max`) before it imports the handler, so cold start and broadcast both run under it.
Creating a cgroup needs root (or a delegated subtree); where neither interface can be written,
`cpu_share` raises CpuShareUnavailable with the reason and the mode is skipped.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

LAMBDA_MB_PER_VCPU = 1769
DEFAULT_SHARE = round(256 / LAMBDA_MB_PER_VCPU, 3)  # 0.145
PERIOD_US = 100_000
V1_ROOT = Path("/sys/fs/cgroup/cpu")
V2_ROOT = Path("/sys/fs/cgroup")


class CpuShareUnavailable(RuntimeError):
    """No cgroup CPU quota can be set here; the message says why."""


@contextlib.contextmanager
def cpu_share(share: float) -> Iterator[Path]:
    """A new cgroup limited to `share` of one CPU; yields its directory (a process joins by
    writing its pid to `cgroup.procs` in it). Removed on exit."""
    quota = max(1000, round(share * PERIOD_US))
    name = f"incident-ws-bench-{os.getpid()}"
    errors = []
    for root, settings in (
        (V1_ROOT, {"cpu.cfs_period_us": str(PERIOD_US), "cpu.cfs_quota_us": str(quota)}),
        (V2_ROOT, {"cpu.max": f"{quota} {PERIOD_US}"}),
    ):
        if not _has_cpu_controller(root):
            errors.append(f"{root}: no cpu controller")
            continue
        group = root / name
        try:
            group.mkdir()
        except OSError as error:
            errors.append(f"{group}: {error}")
            continue
        try:
            for setting, value in settings.items():
                (group / setting).write_text(value)
        except OSError as error:
            errors.append(f"{group}: {error}")
            group.rmdir()
            continue
        try:
            yield group
        finally:
            with contextlib.suppress(OSError):
                group.rmdir()  # once the workers that joined it have exited
        return
    raise CpuShareUnavailable(
        "cannot set a cgroup CPU quota (needs root and cgroup v1 `cpu` at /sys/fs/cgroup/cpu "
        "or cgroup v2 `cpu.max`): " + "; ".join(errors)
    )


def _has_cpu_controller(root: Path) -> bool:
    if root == V1_ROOT:
        return (root / "cpu.cfs_quota_us").is_file()
    try:
        return "cpu" in (root / "cgroup.controllers").read_text().split()
    except OSError:
        return False


def join(group: Path) -> None:
    """Move this process into `group`."""
    (group / "cgroup.procs").write_text(str(os.getpid()))
