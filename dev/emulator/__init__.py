"""A local AWS for what `terraform apply` deployed into a moto server.

It serves API Gateway WebSocket APIs (`$connect` with its Lambda REQUEST authorizer or AWS_IAM,
`$disconnect`, route selection, stage access logs) and their `@connections` API, runs Lambda
functions from their deployed zips in pools of warm workers up to each function's concurrency
limit (synchronously, or asynchronously with retries and destinations) and extracts the metrics
of their Embedded Metric Format log lines as CloudWatch Logs does, polls DynamoDB stream
mappings, fires EventBridge schedules, and answers EventBridge `PutEvents` (delivered to the
rules whose event pattern matches) and Lambda `Invoke` on its own URL, passing the other calls
of those two services on to the AWS API emulator. It knows AWS, not any product built on it.

Other programs start it as a process (`python -m dev.emulator serve --help`) and may rely on
the names below; everything else in this package is internal. `connect_authorizer_event` builds
the event a `$connect` authorizer receives, for code that invokes one in-process.
"""

from dev.emulator.events import connect_authorizer_event
from dev.emulator.quotas import IDLE_TIMEOUT_SECONDS, MAX_CONNECTION_SECONDS, MAX_MESSAGE_BYTES

READY_EVENT = "ready"
"""`event` of the JSON line `serve` prints on stdout once every API answers (see `APIS_PATH`)."""

APIS_PATH = "/_emulator/apis"
"""`GET` lists every WebSocket API stage: `apiId`, `apiName`, `stage`, `tags`, `url` (ws://)."""

METRICS_PATH = "/_emulator/metrics"
"""`GET` lists the metrics extracted from the functions' EMF log lines so far: `metrics`, one
per namespace, metric, dimensions and unit (`dimensions` an object), sorted so, with `count`
(CloudWatch's SampleCount), `sum`, `min`, `max`, and `p50` and `p99` over the `keptValues` (a
bounded sample); and `rejectedLines`, the EMF lines that broke the format (logged, no metrics
extracted)."""

MANAGEMENT_PATH = "/mgmt/{api_id}/{stage}"
"""Where a stage's `@connections` API is served; deployed endpoints are rewritten to it."""

EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
"""What the emulator and its functions sign with: moto accepts any, these are never real."""

__all__ = [
    "APIS_PATH",
    "EMULATOR_CREDENTIALS",
    "IDLE_TIMEOUT_SECONDS",
    "MANAGEMENT_PATH",
    "MAX_CONNECTION_SECONDS",
    "MAX_MESSAGE_BYTES",
    "METRICS_PATH",
    "READY_EVENT",
    "connect_authorizer_event",
]
