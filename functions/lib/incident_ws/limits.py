"""Every limit and default of the handlers, defined once (docs/handlers.md explains each)."""

# API Gateway WebSocket: the largest message a post to @connections may carry.
MAX_MESSAGE_BYTES = 128 * 1024
MAX_USER_AGENT_CHARS = 512
# Longer text is refused before it is parsed: the longest IPv6 address is 45 characters.
MAX_SOURCE_IP_CHARS = 64
# A value read from an event is cut to this length in a log line.
MAX_LOGGED_EVENT_CHARS = 256
# DynamoDB nests maps and lists at most 32 levels deep; only a direct invocation sends deeper.
MAX_NESTING_LEVELS = 32

# API Gateway closes every WebSocket after 2 hours at most: a row older than 3 h is dead.
DEFAULT_CONNECTION_TTL_SECONDS = 3 * 60 * 60
# dev/bench/results.md: 10,000 posts at 20 ms each take 3.1 s at 64 in flight, 1.6 s at 128;
# 256 would ask 12,800 requests/s of API Gateway's 10,000 shared by the whole account.
DEFAULT_MAX_CONCURRENCY = 128
# How long a channel's message log keeps a message for replay (the module's default: 24 h),
# and the least it accepts.
DEFAULT_MESSAGE_RETENTION_SECONDS = 24 * 60 * 60
MIN_MESSAGE_RETENTION_SECONDS = 60
# The most messages one replay request sends before its `replay_truncated` marker.
DEFAULT_REPLAY_MAX_MESSAGES = 500
# Sharded fan-out (docs/handlers.md, "Sharded fan-out"): the most connections one invocation
# posts to within its budget, and the most parallel-Scan segments of one channel (enough to
# carry API Gateway's default 10,000 requests/s), as `python -m dev.bench.sizing` derives them.
DEFAULT_CONNECTIONS_PER_WORKER = 113_000
DEFAULT_MAX_WORKERS = 2
# Lambda's 6 MB limit of a synchronous invocation's request, less room for its envelope.
MAX_WORKER_REQUEST_BYTES = 6 * 1024 * 1024 - 64 * 1024
# A worker invocation Lambda throttled (the function did not run) is invoked again after a
# full-jitter exponential backoff, while the deadline allows and at most this many times.
WORKER_THROTTLE_MAX_RETRIES = 20
WORKER_THROTTLE_BACKOFF_BASE_SECONDS = 0.1
WORKER_THROTTLE_BACKOFF_CAP_SECONDS = 2.0
# How long a channel's DescribeTable item count is used before it is asked again.
ITEM_COUNT_REFRESH_SECONDS = 300
# The most members one `presence_members` frame lists.
MAX_PRESENCE_MEMBERS = 1000

# API Gateway answers a post to a connection whose `$connect` has not returned yet with 410, as
# if it were gone; its integration (the connect function) is given at most 29 s. A connection
# stored less than this long ago may still be connecting, so a 410 does not delete it.
CONNECTING_SECONDS = 30

# connect and disconnect: one DynamoDB request each, answered to API Gateway within 29 s.
DYNAMODB_CONNECT_TIMEOUT_SECONDS = 2
DYNAMODB_READ_TIMEOUT_SECONDS = 5
DYNAMODB_MAX_ATTEMPTS = 3

# stream_processor and heartbeat: every request in flight at the deadline must end within
# DEADLINE_MARGIN_SECONDS. DynamoDB calls (Scan pages, deletes of gone connections):
FAN_OUT_DYNAMODB_CONNECT_TIMEOUT_SECONDS = 1
FAN_OUT_DYNAMODB_READ_TIMEOUT_SECONDS = 2
FAN_OUT_DYNAMODB_MAX_ATTEMPTS = 2
# Posts to @connections, normally answered in tens of milliseconds. One answered 429 or 5xx,
# or not at all, is retried with full-jitter exponential backoff.
POST_CONNECT_TIMEOUT_SECONDS = 1
POST_READ_TIMEOUT_SECONDS = 2
POST_MAX_RETRIES = 3
POST_BACKOFF_BASE_SECONDS = 0.05
POST_BACKOFF_CAP_SECONDS = 1.0
# This many posts of a channel in a row failed after their retries: its endpoint is down.
BREAKER_FAILED_POSTS = 10
# Threads that mark and delete gone connections while the posts go on.
GONE_CLEANUP_WORKERS = 4
# How often the sender's event loop looks for post attempts that have run out of time.
POST_TIMEOUT_CHECK_SECONDS = 0.05
# Message log writes: DynamoDB's largest BatchWriteItem, and how often the items it leaves
# unprocessed are sent again, with the posts' backoff.
LOG_WRITE_BATCH_ITEMS = 25
LOG_WRITE_MAX_RETRIES = 5
LOG_WRITE_CONCURRENCY = 8
# A replay's Query pages evaluate at least this many items: a scoped connection may accept few.
REPLAY_MIN_PAGE_ITEMS = 100

# The longest request that can be in flight when the deadline passes: a post attempt (ended
# by the sender's next timeout check after it ran out of time), or a DynamoDB call with its
# retries and botocore's backoff before each (at most 2**(n-1) s before retry n in its
# standard mode).
LONGEST_POST_ATTEMPT_SECONDS = POST_CONNECT_TIMEOUT_SECONDS + POST_READ_TIMEOUT_SECONDS
LONGEST_POST_OVERRUN_SECONDS = LONGEST_POST_ATTEMPT_SECONDS + POST_TIMEOUT_CHECK_SECONDS
LONGEST_DYNAMODB_CALL_SECONDS = FAN_OUT_DYNAMODB_MAX_ATTEMPTS * (
    FAN_OUT_DYNAMODB_CONNECT_TIMEOUT_SECONDS + FAN_OUT_DYNAMODB_READ_TIMEOUT_SECONDS
) + sum(2**retry for retry in range(FAN_OUT_DYNAMODB_MAX_ATTEMPTS - 1))
# Nothing starts later than this before Lambda's timeout; the rest is for the summary.
DEADLINE_MARGIN_SECONDS = max(LONGEST_POST_OVERRUN_SECONDS, LONGEST_DYNAMODB_CALL_SECONDS) + 0.5
# The answer to a route (replay, presence) stops reading and sending this long before Lambda's
# timeout, so that whatever is in flight ends and two closing frames (a replay's
# `replay_truncated` and `replay_complete`) still go out; a closing frame is attempted until
# CLOSING_FRAME_MARGIN_SECONDS before the end.
CLOSING_FRAME_MARGIN_SECONDS = LONGEST_POST_OVERRUN_SECONDS + 0.5
REPLY_DEADLINE_MARGIN_SECONDS = DEADLINE_MARGIN_SECONDS + 2 * LONGEST_POST_OVERRUN_SECONDS
# A kept-alive HTTP connection idle for longer is closed rather than reused: across a frozen
# Lambda container the server may have dropped it without our side seeing it.
POST_IDLE_CONNECTION_SECONDS = 30.0
