# mk/interop.mk — `make interop` (run by .ci/run after `make test`): real
# HTTP clients against this tree's module. Java 17 HttpClient and
# HttpURLConnection, Go net/http, Node.js http/https/http2, Python aiohttp,
# the AWS CLI and curl upload to an httpd of the run's own (127.0.0.1, ports
# 9500-9599, cleartext HTTP/1.1 and TLS with h2) under ExpectContinue Defer,
# Immediate, Reject and ExpectAllow; the run prints the client table and
# fails when a check fails. See interop/run.py for what each run checks.
#
#   make interop
#   make interop INTEROP_ARGS="--only go,node --policies reject"
#
# Everything comes from Debian's archive (tools/deps.sh interop). The Java
# classes and the Go binary are built into $(INTEROP_BUILD), never the tree.

INTEROP_BUILD ?= .libs/interop
INTEROP_ARGS  ?=
INTEROP_JAVA   = $(INTEROP_BUILD)/java/Interop.class
INTEROP_GO     = $(INTEROP_BUILD)/go-client

.PHONY: interop interop-clients

interop:
	@$(SHELL) tools/deps.sh interop
	@$(MAKE) --no-print-directory all interop-clients
	@/usr/bin/python3 interop/run.py --module $(SO) --build $(INTEROP_BUILD) $(INTEROP_ARGS)

interop-clients: $(INTEROP_JAVA) $(INTEROP_GO)

$(INTEROP_JAVA): interop/clients/Interop.java
	@mkdir -p $(INTEROP_BUILD)/java
	javac -Xlint:all -Werror -d $(INTEROP_BUILD)/java $<

# Standard library only: nothing to download (GOPROXY=off), and the build
# cache stays under .libs.
$(INTEROP_GO): interop/clients/go_client.go
	@mkdir -p $(INTEROP_BUILD)
	GOPROXY=off GOFLAGS= GOTOOLCHAIN=local GO111MODULE=off \
	  GOCACHE=$(abspath $(INTEROP_BUILD))/gocache \
	  go build -o $(INTEROP_GO) $<
