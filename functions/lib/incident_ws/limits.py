"""Every limit and default of the handlers, defined once (docs/handlers.md explains each)."""

# API Gateway WebSocket: the largest message a post to @connections may carry.
MAX_MESSAGE_BYTES = 128 * 1024
MAX_USER_AGENT_CHARS = 512

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

# The @connections sender (connections_sender.py): one attempt may take at most connect (TCP
# and TLS) + response time. A post normally takes tens of ms and a TLS handshake a few; these
# are 20-50 times that, so only a dead or black-holed endpoint reaches them, and a read
# timeout (which may duplicate a message) stays rare.
POST_CONNECT_TIMEOUT_SECONDS = 1.0
POST_RESPONSE_TIMEOUT_SECONDS = 2.0
# A kept-alive HTTP connection idle for longer is closed rather than reused: across a frozen
# Lambda container the server may have dropped it without our side seeing it.
POST_IDLE_CONNECTION_SECONDS = 30.0
