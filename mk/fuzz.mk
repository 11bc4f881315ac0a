# mk/fuzz.mk — programs built from the pure unit (expect_parse.c) without
# httpd, and the fuzzing and sanitizer runs (included by the Makefile).
#
#   make unit-build           build the unit tests (t/unit.t runs them)
#   make fuzz                 build the libFuzzer targets and run each one
#                             FUZZ_SECONDS (default 60) on its corpus, then
#                             replay everything it kept through the
#                             work-counting build (linearity check)
#   make fuzz FUZZ_SECONDS=600 FUZZ_JOBS=1
#   make fuzz-replay          replay fuzz/corpus/* through both targets
#                             without libFuzzer (what t/fuzz_corpus.t does)
#   make sanitize             build the module with -fsanitize=address,undefined
#                             in a copy of the tree and run the whole
#                             Apache::Test suite with the sanitizer runtime
#                             preloaded into httpd; fails on any report
#
# Each program compiles its own source and expect_parse.c against APR's
# headers only: no httpd header is on the include path, which keeps the
# pure unit pure.  Builds, growing corpora and crash files live in FUZZ_OUT
# (under .libs/, so `make clean` removes them). A crash leaves
# FUZZ_OUT/crash-<target>-*: copy it into fuzz/corpus/<target>/ as a
# regression case once it is fixed.

FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 4096
FUZZ_CC      ?= clang
FUZZ_OUT     ?= $(CURDIR)/.libs/fuzz
FUZZ_TARGETS  = parse json

PURE_APR_CONFIG = $(shell $(APXS) -q APR_CONFIG 2>/dev/null || echo apr-1-config)
PURE_CPPFLAGS   = -I$(CURDIR) $(shell $(PURE_APR_CONFIG) --includes --cppflags)
PURE_LIBS       = $(shell $(PURE_APR_CONFIG) --link-ld --libs)
PURE_SRC        = expect_parse.c expect_parse.h
PURE_WARNINGS   = -Wall -Wextra -Werror -Wno-unused-parameter \
                  -Wno-missing-field-initializers

# The unit tests: plain cc.
UNIT_CC ?= cc
UNIT_BIN = $(FUZZ_OUT)/expect_unit

.PHONY: unit-build
unit-build: $(UNIT_BIN)

$(UNIT_BIN): t/unit/expect_unit.c $(PURE_SRC)
	@mkdir -p $(FUZZ_OUT)
	$(UNIT_CC) -O1 -g $(PURE_WARNINGS) $(PURE_CPPFLAGS) \
	  t/unit/expect_unit.c expect_parse.c -o $@ $(PURE_LIBS)

# libFuzzer builds: clang with the fuzzer, ASan and UBSan.
FUZZ_CFLAGS = -O1 -g $(PURE_WARNINGS) \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

# The replay build: plain cc with ASan and UBSan, the target and the pure
# unit instrumented with -fsanitize-coverage=trace-pc so that fuzz/replay.c
# can count the parser's work; replay.c itself is not instrumented.
REPLAY_CC       ?= cc
REPLAY_SANITIZE ?= -fsanitize=address,undefined -fno-sanitize-recover=all
REPLAY_CFLAGS    = -O1 -g $(PURE_WARNINGS) $(REPLAY_SANITIZE)

.PHONY: fuzz fuzz-deps fuzz-build fuzz-replay fuzz-replay-build sanitize

fuzz-build: $(foreach t,$(FUZZ_TARGETS),$(FUZZ_OUT)/fuzz_$(t))

$(FUZZ_OUT)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(PURE_SRC)
	@mkdir -p $(FUZZ_OUT)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PURE_CPPFLAGS) $< expect_parse.c -o $@ $(PURE_LIBS)

fuzz-replay-build: $(foreach t,$(FUZZ_TARGETS),$(FUZZ_OUT)/replay_$(t))

$(FUZZ_OUT)/replay_%: fuzz/fuzz_%.c fuzz/fuzz_common.h fuzz/replay.c $(PURE_SRC)
	@mkdir -p $(FUZZ_OUT)/replay-$*.o
	$(REPLAY_CC) $(REPLAY_CFLAGS) -fsanitize-coverage=trace-pc -DFUZZ_COUNT_WORK \
	  $(PURE_CPPFLAGS) -c $< -o $(FUZZ_OUT)/replay-$*.o/target.o
	$(REPLAY_CC) $(REPLAY_CFLAGS) -fsanitize-coverage=trace-pc \
	  $(PURE_CPPFLAGS) -c expect_parse.c -o $(FUZZ_OUT)/replay-$*.o/expect_parse.o
	$(REPLAY_CC) $(REPLAY_CFLAGS) -c fuzz/replay.c -o $(FUZZ_OUT)/replay-$*.o/replay.o
	$(REPLAY_CC) $(REPLAY_CFLAGS) -o $@ $(FUZZ_OUT)/replay-$*.o/*.o $(PURE_LIBS)

# Each fuzzer reads the repository's seeds and its own work corpus, and
# writes what it finds to the work corpus only (never into fuzz/corpus).
fuzz-deps:
	@$(SHELL) tools/deps.sh fuzz

fuzz: fuzz-deps fuzz-build fuzz-replay-build
	@rc=0; \
	for t in $(FUZZ_TARGETS); do \
	  work=$(FUZZ_OUT)/corpus-$$t; mkdir -p $$work; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS)s (log: $(FUZZ_OUT)/fuzz-$$t.log)"; \
	  $(FUZZ_OUT)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=$(FUZZ_MAX_LEN) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_OUT)/crash-$$t- \
	    $$work fuzz/corpus/$$t > $(FUZZ_OUT)/fuzz-$$t.log 2>&1; \
	  frc=$$?; \
	  grep -E '^#[0-9]+ +DONE|^stat::number_of_executed_units' \
	    $(FUZZ_OUT)/fuzz-$$t.log | sed "s/^/fuzz: $$t: /"; \
	  if [ $$frc -ne 0 ]; then \
	    rc=1; \
	    grep -E 'ERROR|PROPERTY FAILED|SUMMARY|Test unit written' \
	      $(FUZZ_OUT)/fuzz-$$t.log | head -20 | sed "s/^/fuzz: $$t: /"; \
	    echo "fuzz: $$t FAILED; keep the input as fuzz/corpus/$$t/crash-<name> once fixed"; \
	  fi; \
	  echo "fuzz: replaying $$(ls $$work | wc -l) kept inputs of $$t through the counting build"; \
	  ls $$work | sed "s|^|$$work/|" | xargs -r -n 500 $(FUZZ_OUT)/replay_$$t \
	    > $(FUZZ_OUT)/replay-$$t.log 2>&1 || { rc=1; tail -20 $(FUZZ_OUT)/replay-$$t.log; \
	      echo "fuzz: replay of $$t FAILED"; }; \
	done; \
	if [ $$rc -eq 0 ]; then echo "make fuzz: PASS"; else echo "make fuzz: FAIL"; fi; \
	exit $$rc

fuzz-replay: fuzz-replay-build
	@rc=0; \
	for t in $(FUZZ_TARGETS); do \
	  $(FUZZ_OUT)/replay_$$t --selftest fuzz/corpus/parse/* fuzz/corpus/json/* \
	    > $(FUZZ_OUT)/replay-$$t.log 2>&1 \
	    && echo "fuzz-replay: $$t: $$(grep -c ^replayed $(FUZZ_OUT)/replay-$$t.log) files ok" \
	    || { rc=1; tail -20 $(FUZZ_OUT)/replay-$$t.log; echo "fuzz-replay: $$t FAILED"; }; \
	done; exit $$rc

# ---------------------------------------------------------------------------
# make sanitize
#
# The module is built with gcc through apxs (the compiler httpd's modules are
# built with), so the runtime to preload is gcc's: libasan + libubsan of that
# compiler. httpd is started by Apache::Test through a wrapper that sets
# LD_PRELOAD for httpd alone (not for the test scripts or curl). Children run
# as nobody, so the report directory is world-writable. The run happens in a
# copy of the tree: the sanitized .so never replaces the normal build.

SANITIZE_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -g
SANITIZE_CC    ?= gcc
SANITIZE_TESTS ?=

sanitize:
	@$(SHELL) tools/deps.sh sanitize
	@set -e; \
	asan=$$(readlink -f "$$($(SANITIZE_CC) -print-file-name=libasan.so)"); \
	ubsan=$$(readlink -f "$$($(SANITIZE_CC) -print-file-name=libubsan.so)"); \
	[ -f "$$asan" ] && [ -f "$$ubsan" ] || { \
	  echo "make sanitize: $(SANITIZE_CC)'s libasan/libubsan not found (Debian: libgcc-12-dev)"; exit 1; }; \
	httpd=$$($(APXS) -q SBINDIR)/$$($(APXS) -q TARGET); \
	stage=$$(mktemp -d /tmp/mod_expect-sanitize.XXXXXX); chmod 755 $$stage; \
	reports=$$stage/sanitizer-reports; mkdir -p $$reports; chmod 1777 $$reports; \
	tar --exclude=./.git --exclude=./.libs --exclude=./t/logs -cf - . | tar -xf - -C $$stage; \
	printf '#!/bin/sh\n# httpd with the sanitizer runtime preloaded (make sanitize)\nLD_PRELOAD="%s %s" exec %s "$$@"\n' \
	  "$$asan" "$$ubsan" "$$httpd" > $$stage/httpd-sanitized; \
	chmod 755 $$stage/httpd-sanitized; \
	echo "make sanitize: building in $$stage with $(SANITIZE_FLAGS)"; \
	$(MAKE) --no-print-directory -C $$stage clean >/dev/null; \
	$(MAKE) --no-print-directory -C $$stage all \
	  EXTRA_CFLAGS="$(SANITIZE_FLAGS)" EXTRA_LDFLAGS="$(SANITIZE_FLAGS)" >/dev/null; \
	nm -D $$stage/.libs/mod_expect.so | grep -q __asan_report || { \
	  echo "make sanitize: the module was not built with ASan"; exit 1; }; \
	set +e; \
	APACHE_TEST_HTTPD=$$stage/httpd-sanitized \
	ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:log_path=$$reports/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$$reports/ubsan \
	  $(MAKE) --no-print-directory -C $$stage check TESTS="$(SANITIZE_TESTS)"; \
	rc=$$?; \
	n=$$(ls $$reports | wc -l); \
	if [ $$n -gt 0 ]; then \
	  echo "make sanitize: $$n sanitizer report(s) in $$reports:"; \
	  for f in $$reports/*; do echo "== $$f"; head -40 $$f; done; rc=1; \
	else \
	  echo "make sanitize: no sanitizer reports"; \
	fi; \
	if [ $$rc -eq 0 ]; then rm -rf $$stage; echo "make sanitize: PASS"; \
	else echo "make sanitize: FAIL (tree kept in $$stage)"; fi; \
	exit $$rc
