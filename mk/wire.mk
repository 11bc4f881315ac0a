# mk/wire.mk — the differential wire fuzzer (fuzz/wire/README.md).
#
#   make fuzz-wire                 run until FUZZ_STREAMS streams (default
#                                  10000) or FUZZ_SECONDS seconds have passed
#   make fuzz-wire FUZZ_STREAMS=100000 FUZZ_SEED=12345
#   make fuzz-wire FUZZ_SECONDS=600 FUZZ_STREAMS=0
#   make wire-build                build the module and the test-only echo
#                                  module (make wire-echo: the latter only)
#   make wire-replay               replay fuzz/wire/repro/* (what
#                                  t/wire_replay.t does, without the suite)
#
# Stock httpd and httpd with mod_expect run side by side from one
# configuration (fuzz/wire/httpd.conf) on 127.0.0.1, ports from
# WIRE_PORT_BASE (default 9400; the run moves on to a free block below
# 9500).  Findings are written, minimised, to WIRE_FINDINGS (default
# .libs/wire/findings); copy one into fuzz/wire/repro/ to have make test
# replay it from then on.

# Included before the Makefile's first target, this file must not become
# the default goal.
wire_saved_default_goal := $(.DEFAULT_GOAL)

FUZZ_STREAMS   ?= 10000
FUZZ_SEED      ?=
FUZZ_JOBS      ?= 4
WIRE_PORT_BASE ?= 9400
WIRE_OUT       ?= $(CURDIR)/.libs/wire
WIRE_FINDINGS  ?= $(WIRE_OUT)/findings
WIRE_ECHO_SO    = $(WIRE_OUT)/mod_wire_echo.so
# FUZZ_SECONDS also sets the libFuzzer runs of mk/fuzz.mk (default 60
# there); here only a value given on the command line or in the
# environment counts, and none means no time limit.
WIRE_SECONDS    = $(if $(filter command line environment environment override,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),0)

.PHONY: fuzz-wire wire-build wire-echo wire-replay wire-deps

wire-deps:
	@$(SHELL) tools/deps.sh wire

# apxs builds in the directory of the source: build in a copy under
# WIRE_OUT so that no object lands in fuzz/wire.
$(WIRE_ECHO_SO): fuzz/wire/mod_wire_echo.c | apxs-present
	@mkdir -p $(WIRE_OUT)/build
	@cp fuzz/wire/mod_wire_echo.c $(WIRE_OUT)/build/
	@cd $(WIRE_OUT)/build && $(APXS) -c -o mod_wire_echo.la \
	  $(foreach f,$(WARNINGS),-Wc,$(f)) mod_wire_echo.c >build.log 2>&1 || \
	  { cat build.log; exit 1; }
	@cp $(WIRE_OUT)/build/.libs/mod_wire_echo.so $@
	@echo "wire: built $@"

wire-build: all $(WIRE_ECHO_SO)

# The echo module alone (t/wire_replay.t: the suite has built the module).
wire-echo: $(WIRE_ECHO_SO)

fuzz-wire: wire-deps wire-build
	@perl fuzz/wire/wire.pl fuzz --streams '$(FUZZ_STREAMS)' \
	  --seconds '$(WIRE_SECONDS)' $(if $(FUZZ_SEED),--seed '$(FUZZ_SEED)') \
	  --jobs '$(FUZZ_JOBS)' --port-base '$(WIRE_PORT_BASE)' \
	  --echo '$(WIRE_ECHO_SO)' --module '$(CURDIR)/.libs/mod_expect.so' \
	  --findings '$(WIRE_FINDINGS)'

wire-replay: wire-deps wire-build
	@perl fuzz/wire/wire.pl replay --port-base '$(WIRE_PORT_BASE)' \
	  --echo '$(WIRE_ECHO_SO)' --module '$(CURDIR)/.libs/mod_expect.so' \
	  fuzz/wire/repro

.DEFAULT_GOAL := $(wire_saved_default_goal)
