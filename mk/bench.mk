# Benchmark (dev/bench/README.md): stream_processor's broadcast against the previous
# stream_processor (built from BENCH_BASELINE_REF) and the original sequential loop, over plain
# HTTP, TLS, a Lambda-sized CPU share and the 10,000 requests/s account limit; and what the
# $connect authorizer costs. Not part of `make test`: speed is measured here, never by a timed test.
# BENCH_SIZES / BENCH_CONCURRENCY / BENCH_MODES (environment or `make bench BENCH_SIZES=1000`)
# narrow the run; sizes above 15,000 (or every size, with BENCH_SHARDED=1) go through the
# sharded fan-out, its worker run by the emulator (BENCH_SEGMENTS segments, default 3).
.PHONY: bench bench-sender

# The last main commit before the fan-out moved to the event-loop sender: the threaded poster.
BENCH_BASELINE_REF ?= b829d9e71a3bb3415670c03b4f21414b8a885b4f
export BENCH_BASELINE_REF

bench: venv package ## Time stream_processor vs its previous build and the original loop at 1k and 10k connections (TLS, CPU share, rate limit), and the $connect authorizer; writes dev/bench/results.md
	$(PY) -m dev.bench.run

bench-sender: venv package ## CPU per message of the previous threaded sender and the event-loop sender over TLS
	$(PY) -m dev.bench.sender
