# mk/bench.mk — `make bench`: mod_expect against stock httpd, side by side.
#
#   make bench                      throughput (wrk, h2load) and instructions
#                                   per request (callgrind); see BENCHMARKS.md
#   make bench BENCH_ENV='ROUNDS=7 CASES="get browser"'   settings of bench/run.sh
#   make bench BENCH_ENV='CG_CASES='                      skip callgrind
#
# Installs what is missing (tools/deps.sh bench: httpd and apxs, wrk,
# valgrind, h2load, ab), builds the module, and runs bench/run.sh.  Servers
# listen on 127.0.0.1:9101-9105 (BENCH_ENV='PORT_BASE=...' to move them).
#
# Works on its own as well: make -f Makefile -f mk/bench.mk bench

# Included before the Makefile's first target, this file must not become
# the default goal.
bench_saved_default_goal := $(.DEFAULT_GOAL)

BENCH_ENV ?=

.PHONY: bench bench-deps

bench: bench-deps
	@$(MAKE) --no-print-directory all
	@env $(BENCH_ENV) bench/run.sh

bench-deps:
	@bash tools/deps.sh bench

.DEFAULT_GOAL := $(bench_saved_default_goal)
