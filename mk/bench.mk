# mk/bench.mk — `make bench`: mod_expect against stock httpd, side by side.
#
#   make bench                      throughput (wrk) and instructions per
#                                   request (callgrind); see BENCHMARKS.md
#   make bench BENCH_ENV='ROUNDS=7 CASES="get xfoo"'   settings of bench/run.sh
#   make bench BENCH_ENV='CG_CASES='                   skip callgrind
#
# Installs what is missing (tools/deps.sh for httpd and apxs, then wrk and
# valgrind), builds the module, and runs bench/run.sh.  Servers listen on
# 127.0.0.1:9101-9103 (BENCH_ENV='PORT_BASE=...' to move them).
#
# Works on its own as well: make -f Makefile -f mk/bench.mk bench

# Included before the Makefile's first target, this file must not become
# the default goal.
bench_saved_default_goal := $(.DEFAULT_GOAL)

BENCH_ENV ?=
BENCH_PKGS = wrk valgrind

.PHONY: bench bench-deps

bench: bench-deps
	@$(MAKE) --no-print-directory all
	@env $(BENCH_ENV) bench/run.sh

bench-deps:
	@tools/deps.sh build
	@missing=; \
	for p in $(BENCH_PKGS); do \
	  command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "bench: missing:$$missing; install with: sudo apt-get install -y$$missing" >&2; \
	    exit 1; \
	  fi; \
	  echo "bench: installing$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$$missing; \
	fi

.DEFAULT_GOAL := $(bench_saved_default_goal)
