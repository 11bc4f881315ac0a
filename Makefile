# mod_expect — build, install, test and demo.
#
#   make              build .libs/mod_expect.so with apxs (warnings are errors)
#   make install      install the module (and conf/expect.{load,conf} into
#                     mods-available on Debian-style layouts: `a2enmod expect`)
#   make test         install what is missing, build, run the Apache::Test suite
#   make run          install what is missing, build, serve the demo (PORT=8080)
#   make clean        remove build and test products
#
# `make test TESTS="t/continue.t t/curl.t"` runs only those files;
# `make check` runs the suite without looking for missing packages.

SHELL := /bin/bash

APXS ?= $(shell command -v apxs 2>/dev/null || command -v apxs2 2>/dev/null)

# Extra compiler/linker flags, e.g. a sanitizer build:
#   make clean all EXTRA_CFLAGS="-fsanitize=address,undefined -g" EXTRA_LDFLAGS=-fsanitize=address,undefined
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=

WARNINGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
APXS_FLAGS = $(foreach f,$(WARNINGS) $(EXTRA_CFLAGS),-Wc,$(f)) \
             $(foreach f,$(EXTRA_LDFLAGS),-Wl,$(f))

# mod_expect.c first: apxs names the module after its first source file.
SRC = mod_expect.c expect_capture.c expect_counters.c expect_parse.c
HDR = expect_capture.h expect_compat.h expect_counters.h expect_parse.h
SO  = .libs/mod_expect.so

TESTS ?=

.PHONY: all install test check run clean apxs-present

all: $(SO)

$(SO): $(SRC) $(HDR) Makefile | apxs-present
	$(APXS) -c -o mod_expect.la $(APXS_FLAGS) $(SRC)

apxs-present:
	@if [ -z "$(APXS)" ]; then \
	  echo "make: apxs not found; 'make test' and 'make run' install it, or run: tools/deps.sh build" >&2; \
	  exit 1; \
	fi

install: all
	$(APXS) -i -n expect mod_expect.la
	@conf_dir=$$($(APXS) -q SYSCONFDIR); \
	if [ -d "$$conf_dir/mods-available" ]; then \
	  install -m 644 conf/expect.load conf/expect.conf "$$conf_dir/mods-available/" && \
	  echo "installed $$conf_dir/mods-available/expect.load and expect.conf; enable with: a2enmod expect"; \
	fi

test:
	@$(SHELL) tools/deps.sh test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory check

# httpd's children run as `nobody` when the suite runs as root, so they must be
# able to read the tree. When a parent directory shuts them out (a checkout
# under /root, say), the suite runs in a world-readable copy instead.
# Ports: Apache::Test's "select" mode starts at 8529 and moves on when that is
# taken (APACHE_TEST_PORT=N picks the base port). A test file skipped as a
# whole because a module or program is missing fails the run: nothing passes
# untested. (Skips for other reasons, e.g. a test that needs root, are listed.)
check: all
	@dir='$(CURDIR)'; \
	if [ "$$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1 && \
	   ! runuser -u nobody -- test -r "$$dir/t/TEST.PL"; then \
	  stage=$$(mktemp -d /tmp/mod_expect-test.XXXXXX) && chmod 755 "$$stage" && \
	  echo "make test: $$dir is not readable by user nobody; testing a copy in $$stage" && \
	  tar --exclude=./.git -cf - . | tar -xf - -C "$$stage" && dir=$$stage; \
	fi; \
	cd "$$dir" || exit 1; \
	chmod -R a+rX t && cp t/TEST.PL t/TEST && chmod 755 t/TEST || exit 1; \
	find t/htdocs -type f \( -name '*.pl' -o -name '*.cgi' -o -name '*.sh' \) \
	  -exec chmod a+rx {} + || exit 1; \
	t/TEST -clean >/dev/null 2>&1; \
	out=$$(mktemp); \
	t/TEST -port "$${APACHE_TEST_PORT:-select}" $(TESTS) 2>&1 | tee "$$out"; \
	rc=$${PIPESTATUS[0]}; \
	skipped=$$(grep -E '^t/.*skipped: ' "$$out" | sed 's/ *\.\.*  *skipped:/:/'); \
	rm -f "$$out"; \
	if [ -n "$$skipped" ]; then \
	  echo "make test: test files skipped:"; echo "$$skipped"; \
	  if [ $$rc -eq 0 ] && echo "$$skipped" | \
	     grep -Eqi 'cannot find|not installed|not found|missing'; then \
	    echo "make test: something the suite needs is missing (above)"; rc=1; \
	  fi; \
	fi; \
	if [ $$rc -eq 0 ]; then \
	  if [ "$$dir" != '$(CURDIR)' ]; then rm -rf "$$dir"; fi; \
	  echo "make test: PASS"; \
	else \
	  echo "make test: FAIL (exit $$rc); server log: $$dir/t/logs/error_log"; \
	fi; \
	exit $$rc

run:
	@$(SHELL) tools/deps.sh build
	@$(MAKE) --no-print-directory all
	@$(SHELL) tools/demo.sh

clean:
	@if [ -x t/TEST ]; then t/TEST -clean >/dev/null 2>&1 || true; fi
	rm -rf .libs *.o *.lo *.la *.slo
	rm -f t/TEST t/conf/expect_load.conf
	rm -rf t/logs t/state

# Further targets (fuzz, sanitize, soak, bench, deb) live in mk/*.mk.
-include mk/*.mk
