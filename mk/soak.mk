# mk/soak.mk — `make soak` (not part of `make test`): 200 000 mixed requests
# (plain, 100-continue uploads, rejected, allowed, HTTP/2) against one httpd
# with the module, then checks crashes, statuses and resident memory.
# See soak/run.sh for the mix and the checks.
#
#   make soak
#   make soak SOAK_REQUESTS=50000 SOAK_CONNS=32 SOAK_PORT=9090

SOAK_REQUESTS ?= 200000
SOAK_WARMUP   ?= 400000
SOAK_CONNS    ?= 48
SOAK_PORT     ?= 9090

.PHONY: soak

soak:
	@$(SHELL) tools/deps.sh soak
	@$(MAKE) --no-print-directory all
	@SOAK_REQUESTS=$(SOAK_REQUESTS) SOAK_WARMUP=$(SOAK_WARMUP) \
	  SOAK_CONNS=$(SOAK_CONNS) SOAK_PORT=$(SOAK_PORT) APXS=$(APXS) \
	  soak/run.sh
