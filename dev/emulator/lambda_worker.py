"""The process one warm Lambda runs in (started by `lambda_runner`, never imported by it).

Protocol: one JSON request per line on stdin (`{"event", "requestId", "deadlineMs"}`), one
JSON response per line on the original stdout (`{"result": ...}` or `{"error": {...}}`).
Everything the function prints or logs goes to stderr, which the emulator prefixes with the
function's name and reads for Embedded Metric Format lines, as CloudWatch Logs would.
"""

import importlib
import json
import logging
import os
import signal
import sys
import time
import traceback


class LambdaContext:
    def __init__(self, request_id: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ.get("EMULATOR_FUNCTION_ARN", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _load_handler():
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, function_name)


def _invoke(handler, request: dict) -> str:
    context = LambdaContext(request["requestId"], request["deadlineMs"])
    try:
        result = handler(request["event"], context)
    except Exception as exc:
        return _failure(exc)
    try:
        return json.dumps({"result": result})
    except (TypeError, ValueError) as exc:
        return _failure(exc, "Runtime.MarshalError")


def _failure(exc: BaseException, error_type: str | None = None) -> str:
    error = _error(exc, error_type)
    print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", file=sys.stderr)
    print("".join(error["stackTrace"]).rstrip(), file=sys.stderr)
    return json.dumps({"error": error})


def main() -> None:
    # Ctrl-C reaches the whole process group; the emulator stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Running this file puts its own folder first on sys.path; the function's code must win.
    sys.path[0] = os.environ["LAMBDA_TASK_ROOT"]
    responses = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(
        level=os.environ.get("AWS_LAMBDA_LOG_LEVEL", "WARNING"),
        format="%(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    handler = None
    for line in sys.stdin:
        request = json.loads(line)
        if handler is None:
            try:
                handler = _load_handler()
            except Exception as exc:
                # Like Lambda, a failed init is retried on the next invocation.
                responses.write(_failure(exc, "Runtime.ImportModuleError") + "\n")
                continue
        response = _invoke(handler, request)
        sys.stderr.flush()
        responses.write(response + "\n")


if __name__ == "__main__":
    main()
