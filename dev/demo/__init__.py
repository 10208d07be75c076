"""`make demo` (`python -m dev.demo`): the whole system on this machine, with a live dashboard."""

from pathlib import Path

DASHBOARD_DIR = Path(__file__).with_name("dashboard")
"""The dashboard's static files, served by the emulator at `/` (`serve --static-dir`)."""

DASHBOARD_CLIENT_ID = "dashboard"
"""The `clientId` the dashboard connects with (app.js), by which its connection rows are known."""
