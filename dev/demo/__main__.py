"""`make demo`: the whole system on this machine, as Terraform deployed it.

    python -m dev.demo [--time-scale 1.0] [--region us-east-1] [--work-dir .build/demo]

Starts moto and a local OIDC issuer on free loopback ports, applies `examples/local` to moto
with a fresh state in the work directory (its channels trust the issuer), starts the emulator on
what was deployed (serving the dashboard), writes a few sample incidents and remediation logs
into the incident table and prints the dashboard and channel URLs and the demo personas.
Ctrl-C stops every process it started.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from dev.demo import DASHBOARD_DIR
from dev.demo.samples import inject_samples
from dev.harness.local_stack import DEFAULT_WORK_DIR, LocalStack
from dev.harness.processes import StartupError


def _progress_printer(total: int) -> Callable[[str], None]:
    step = 0

    def progress(message: str) -> None:
        nonlocal step
        step += 1
        ellipsis = "…" if step < total else ""
        print(f"[{step}/{total}] {message}{ellipsis}", flush=True)

    return progress


def _wait_for_interrupt() -> None:
    """Until Ctrl-C or SIGTERM (SIGINT set explicitly: a background job inherits it ignored)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(timeout=1.0):
        pass


def _print_urls(stack: LocalStack, samples: int) -> None:
    print(f"\nWrote {samples} sample items to table {stack.outputs['incident_table_name']}.")
    print(f"\n  Dashboard   {stack.dashboard_url}")
    for name, url in sorted(stack.channel_urls.items()):
        print(f"  {name:<11} {url}")
    print(f"  AWS (moto)  {stack.aws_endpoint}")
    print(f"  OIDC issuer {stack.issuer.url}")
    _print_personas(stack)
    print("\nLambda logs follow. Press Ctrl-C to stop.\n", flush=True)


def _print_personas(stack: LocalStack) -> None:
    if not stack.uses_issuer:
        print("\nNo deployed authorizer trusts the local issuer: the channels need no token.")
        return
    print("\nSign in as (switch in the dashboard's header):")
    for persona in stack.identity()["personas"]:
        print(f"  {persona['name']:<11} {persona['principal']}: {persona['description']}")
    token_url = f"{stack.issuer.persona_token_url}?persona=tenant"
    print(f"\nA token for a client of your own: curl '{token_url}'")
    print("then connect to a channel URL with ?token=<token>.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.demo", description=__doc__)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument(
        "--time-scale", default="1.0", help="emulator clock speed-up for schedules (default 1.0)"
    )
    args = parser.parse_args(argv)
    if shutil.which("terraform") is None:
        parser.error("terraform is not on PATH (https://developer.hashicorp.com/terraform/install)")

    progress = _progress_printer(total=len(LocalStack.STEPS) + 2)
    stack = LocalStack(
        args.work_dir,
        region=args.region,
        static_dir=DASHBOARD_DIR,
        emulator_args=["--time-scale", args.time_scale],
        emulator_log=sys.stderr.buffer,
        progress=progress,
    )
    try:
        with stack:
            progress("injecting sample incidents and remediation logs")
            samples = inject_samples(stack.incident_table())
            progress("ready")
            _print_urls(stack, samples)
            _wait_for_interrupt()
            print("\nStopping the emulator and moto…", flush=True)
    except StartupError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; everything started has been stopped.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
