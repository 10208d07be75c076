"""Every limit and default of the handlers, defined once (docs/handlers.md explains each)."""

# API Gateway WebSocket: the largest message a post to @connections may carry.
MAX_MESSAGE_BYTES = 128 * 1024
MAX_USER_AGENT_CHARS = 512
# Longer text is refused before it is parsed: the longest IPv6 address is 45 characters.
MAX_SOURCE_IP_CHARS = 64
# DynamoDB nests maps and lists at most 32 levels deep; only a direct invocation sends deeper.
MAX_NESTING_LEVELS = 32

# API Gateway closes every WebSocket after 2 hours at most: a row older than 3 h is dead.
DEFAULT_CONNECTION_TTL_SECONDS = 3 * 60 * 60
# dev/bench/results.md: the knee of the concurrency sweep at 20 ms per post.
DEFAULT_MAX_CONCURRENCY = 64

# Every AWS call: DynamoDB requests and @connections posts.
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
DYNAMODB_MAX_ATTEMPTS = 3

# A post answered 429 or 5xx, or not at all: retried with full-jitter exponential backoff.
POST_MAX_RETRIES = 3
POST_BACKOFF_BASE_SECONDS = 0.05
POST_BACKOFF_CAP_SECONDS = 1.0
