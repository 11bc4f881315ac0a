#!/usr/bin/python3
"""make interop: real HTTP clients against this tree's mod_expect.

Starts an httpd of its own (interop/server.py) with one upload URL per policy
-- ExpectContinue Defer, Immediate, Reject and ExpectAllow x-foo -- and has
each client upload the same file to each of them, over cleartext HTTP/1.1,
HTTP/1.1 over TLS and, where the client speaks it, h2 over TLS (ALPN):

  curl                     -H 'Expect: 100-continue' --expect100-timeout 5
  Java HttpClient          expectContinue(true) (no continue timeout of its
                           own; request timeout 20 s)
  Java HttpURLConnection   setFixedLengthStreamingMode, Expect: 100-continue
                           (its own 5 s wait for the 100)
  Go net/http              Transport.ExpectContinueTimeout = 5 s
  Node.js http/https/http2 the body goes out on 'continue' (5 s fallback)
  Python aiohttp           expect100=True (no continue timeout of its own;
                           total timeout 20 s)
  AWS CLI (Debian's)       aws s3 cp of 6 MiB, path-style, to a PUT endpoint
                           that answers like S3 (botocore waits 1 s for 100)

Every run is checked against what the server saw: the upload handler records
the bytes (and their SHA-256), the Expect field and EXPECT_OUTCOME it got
under the run's ID, and httpd's forensic log counts the requests (so a repeat
after a 417 is seen). A run passes when

  * the status is 2xx where the policy accepts and 417 under Reject,
  * every byte arrived (the handler's digest is the file's), exactly once,
  * the handler saw the Expect members the policy passes on and the outcome
    the policy names,
  * the client did not wait for a 100 it never got: its continue timer did
    not fire, and its first answer (the 100, or the final status; the start
    of the body where the client does not show the 100) came less than half
    its continue timeout after the request headers went out -- the margin is
    wide on purpose. The whole upload's time is printed, not judged: it
    measures the machine more than the server.

Under Reject it records whether the client sent the request again.

Known client defects that the runs show are checked as what they are (see
known_defect() below); the table says so. Exit status 0 when every run passed.

  interop/run.py --module .libs/mod_expect.so --build .libs/interop
  interop/run.py ... --only go,node --policies defer,reject   (a subset)
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server import Server  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS_DIR = os.path.join(HERE, "clients")
PYTHON = "/usr/bin/python3"      # Debian's, which has python3-aiohttp
AWS = "/usr/bin/aws"             # Debian's awscli, whatever else is on PATH
PAYLOAD_SIZE = 6 * 1024 * 1024   # > 5 MiB: what makes `aws s3 cp` wait for 100
CONTINUE_TIMEOUT = 5.0           # where the client lets us choose it
HARD_LIMIT = 60                  # seconds; a client process past it is killed

POLICIES = {
    "defer": "ExpectContinue Defer",
    "immediate": "ExpectContinue Immediate",
    "reject": "ExpectContinue Reject",
    "allow": "ExpectAllow x-foo",
}
PROTOS = {
    "h1": ("http", "HTTP/1.1 cleartext"),
    "h1-tls": ("https", "HTTP/1.1 over TLS"),
    "h2-tls": ("https", "h2 over TLS (ALPN)"),
}


# -- the clients ---------------------------------------------------------------

class Client:
    """One client program. run() returns its report: status, proto,
    sent_expect, t_headers / t_100 / t_body / t_final / t_done (ms after the
    request started), fallback (its continue timer fired), error."""
    key = name = ""
    protos = ("h1", "h1-tls")
    continue_timeout = CONTINUE_TIMEOUT   # seconds it waits for a 100
    timeout_note = "5 s (set)"
    sends_extensions = True
    shows_100 = True      # False: only the start of the body tells of the 100

    def wait_limit(self):
        """The first answer must come sooner than this (ms)."""
        return self.continue_timeout * 1000 / 2

    def version(self):
        return ""

    def run(self, ctx, url, expect, proto):
        raise NotImplementedError


def _run_json(cmd, env, cwd=None):
    """Run a client program that prints one JSON object; a program that hangs
    past HARD_LIMIT is killed (it is ours: started right here)."""
    full_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                "HOME": env.get("HOME", "/tmp")}
    full_env.update(env)
    try:
        p = subprocess.run(cmd, env=full_env, cwd=cwd, capture_output=True,
                           text=True, timeout=HARD_LIMIT)
    except subprocess.TimeoutExpired:
        return {"error": f"killed after {HARD_LIMIT} s"}, ""
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        return {"error": f"exit {p.returncode}, no report; stderr: "
                         + p.stderr.strip()[-500:]}, p.stderr
    rep = json.loads(lines[-1])
    return rep, p.stderr


def _ix_env(ctx, url, expect, proto, timeout=CONTINUE_TIMEOUT):
    return {"IX_URL": url, "IX_FILE": ctx.payload, "IX_PROTO": proto.split("-")[0],
            "IX_EXPECT": expect, "IX_TIMEOUT": str(timeout),
            "IX_CA": ctx.server.ca if proto.endswith("tls") else "",
            "HOME": ctx.home}


class Curl(Client):
    key, name = "curl", "curl"
    protos = ("h1", "h1-tls", "h2-tls")
    timeout_note = "5 s (--expect100-timeout)"

    def version(self):
        out = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout
        return out.split("\n")[0].split(" (")[0]

    def run(self, ctx, url, expect, proto):
        body = os.path.join(ctx.home, "curl.body")
        trace = os.path.join(ctx.home, "curl.trace")
        # --trace-ascii shows when the headers and the first body bytes went
        # out and each response line came, with microsecond times.
        cmd = ["curl", "-sS", "--trace-ascii", trace, "--trace-time", "-o", body,
               "-w", "%{http_code} %{http_version}\n",
               "-T", ctx.payload, "-H", "Content-Type: application/octet-stream",
               "-H", "Expect: " + expect,
               "--expect100-timeout", str(int(self.continue_timeout)),
               "--max-time", str(int(4 * self.continue_timeout)),
               "--http2" if proto == "h2-tls" else "--http1.1"]
        if proto.endswith("tls"):
            cmd += ["--cacert", ctx.server.ca]
        cmd.append(url)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=HARD_LIMIT,
                               env={"PATH": "/usr/bin:/bin", "HOME": ctx.home})
        except subprocess.TimeoutExpired:
            return {"error": f"killed after {HARD_LIMIT} s"}
        rep = {"sent_expect": expect, "status": None, "proto": None, "t_headers": None,
               "t_100": None, "t_body": None, "t_final": None, "t_done": None,
               "fallback": False, "error": None}
        t0 = None
        recv_header_at = None
        with open(trace, errors="replace") as f:
            lines = f.read().splitlines()
        for line in lines:
            m = re.match(r"(\d\d):(\d\d):(\d\d\.\d+) (.*)", line)
            if not m:
                # A dump line: the first line of a received header block
                # is the status line.
                if recv_header_at is not None:
                    d = re.match(r"[0-9a-f]{4}: (HTTP/\S+) (\d{3})", line)
                    if d:
                        code = int(d.group(2))
                        if code == 100 and rep["t_100"] is None:
                            rep["t_100"] = recv_header_at
                        elif code >= 200:
                            rep["t_final"] = rep["t_done"] = recv_header_at
                    recv_header_at = None
                continue
            t = (int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))) * 1000
            text = m.group(4)
            recv_header_at = None
            if text.startswith("=> Send header") and rep["t_headers"] is None:
                t0 = t
                rep["t_headers"] = 0.0
            elif t0 is None:
                continue
            elif text.startswith("=> Send data") and rep["t_body"] is None:
                rep["t_body"] = t - t0
            elif text.startswith("<= Recv header"):
                recv_header_at = t - t0
            elif "Done waiting for 100-continue" in text:
                rep["fallback"] = True
        fields = p.stdout.split()
        if len(fields) == 2 and fields[0] != "000":
            rep["status"] = int(fields[0])
            rep["proto"] = {"1.1": "HTTP/1.1", "2": "HTTP/2.0"}.get(fields[1], fields[1])
        rep["exit"] = p.returncode
        if p.returncode != 0:
            errs = [l for l in p.stderr.splitlines() if l.startswith("curl:")]
            rep["error"] = (errs[-1] if errs else f"curl exit {p.returncode}")
        return rep


class JavaHttpClient(Client):
    key, name = "java-hc", "Java HttpClient"
    protos = ("h1", "h1-tls", "h2-tls")
    timeout_note = "none of its own (judged against 5 s)"

    def version(self):
        return "Java " + _java_version()

    def run(self, ctx, url, expect, proto):
        rep, _ = _run_json(["java", "-Djdk.httpclient.allowRestrictedHeaders=expect",
                            "-cp", os.path.join(ctx.build, "java"), "Interop", "httpclient"],
                           _ix_env(ctx, url, expect, proto))
        return rep


class JavaURLConnection(Client):
    key, name = "java-huc", "Java HttpURLConnection"
    timeout_note = "5 s (built in)"
    shows_100 = False

    def version(self):
        return "Java " + _java_version()

    def run(self, ctx, url, expect, proto):
        rep, _ = _run_json(["java", "-cp", os.path.join(ctx.build, "java"), "Interop",
                            "urlconnection"], _ix_env(ctx, url, expect, proto))
        return rep


_JAVA = None


def _java_version():
    global _JAVA
    if _JAVA is None:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
        m = re.search(r'version "([^"]+)"', out)
        _JAVA = m.group(1) if m else "?"
    return _JAVA


def _java_feature():
    try:
        return int(re.match(r"(\d+)", _java_version()).group(1))
    except (AttributeError, ValueError):
        return 0


class Go(Client):
    key, name = "go", "Go net/http"
    protos = ("h1", "h1-tls", "h2-tls")
    timeout_note = "5 s (ExpectContinueTimeout)"

    def version(self):
        out = subprocess.run(["go", "version"], capture_output=True, text=True).stdout
        return out.split()[2] if len(out.split()) > 2 else "?"

    def run(self, ctx, url, expect, proto):
        rep, _ = _run_json([os.path.join(ctx.build, "go-client")],
                           _ix_env(ctx, url, expect, proto))
        return rep


class Node(Client):
    key, name = "node", "Node.js http/https/http2"
    protos = ("h1", "h1-tls", "h2-tls")
    timeout_note = "none of its own; body on 'continue', else after 5 s (set)"

    def version(self):
        return "Node.js " + subprocess.run(["node", "--version"], capture_output=True,
                                           text=True).stdout.strip()

    def run(self, ctx, url, expect, proto):
        rep, _ = _run_json(["node", os.path.join(CLIENTS_DIR, "node_client.js")],
                           _ix_env(ctx, url, expect, proto))
        return rep


class Aiohttp(Client):
    key, name = "aiohttp", "Python aiohttp"
    timeout_note = "none of its own (judged against 5 s)"
    shows_100 = False

    def version(self):
        out = subprocess.run([PYTHON, "-c", "import aiohttp, sys; print(aiohttp.__version__,"
                              " sys.version.split()[0])"], capture_output=True, text=True)
        v = out.stdout.split()
        return f"aiohttp {v[0]} (Python {v[1]})" if len(v) == 2 else "?"

    def run(self, ctx, url, expect, proto):
        rep, _ = _run_json([PYTHON, os.path.join(CLIENTS_DIR, "aiohttp_client.py")],
                           _ix_env(ctx, url, expect, proto))
        return rep


class AwsCli(Client):
    """`aws s3 cp` of the 6 MiB file, path-style (bucket = the policy's URL),
    one PutObject: the configuration raises multipart_threshold above the
    file's size. botocore adds "Expect: 100-continue" to PutObject and waits
    1 s for the 100 (not configurable) before it sends the body anyway; its
    debug log says which happened, with millisecond timestamps."""
    key, name = "aws", "AWS CLI s3 cp"
    continue_timeout = 1.0
    timeout_note = "1 s (botocore, built in)"
    sends_extensions = False

    def wait_limit(self):
        # Not settable, and short: judged by botocore's own word (its debug
        # log says when it gave up waiting), and by the second itself.
        return self.continue_timeout * 1000

    def version(self):
        out = subprocess.run([AWS, "--version"], capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
        return (out.stdout.strip() or out.stderr.strip()).split(" ")[0]

    def url(self, ctx, policy, proto, run_id):
        return f"s3://{policy}/s3/{run_id}.bin"

    def run(self, ctx, url, expect, proto):
        scheme = "https" if proto.endswith("tls") else "http"
        port = ctx.server.tlsport if proto.endswith("tls") else ctx.server.port
        config = os.path.join(ctx.home, "aws-config")
        if not os.path.exists(config):
            with open(config, "w") as f:
                f.write("[default]\nregion = us-east-1\ns3 =\n"
                        "    addressing_style = path\n"
                        "    multipart_threshold = 64MB\n")
        env = {"PATH": "/usr/bin:/bin", "HOME": ctx.home, "LANG": "C.UTF-8",
               "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
               "AWS_ACCESS_KEY_ID": "interop", "AWS_SECRET_ACCESS_KEY": "interop",
               "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": ""}
        cmd = [AWS, "--debug", "--endpoint-url", f"{scheme}://127.0.0.1:{port}"]
        if proto.endswith("tls"):
            cmd += ["--ca-bundle", ctx.server.ca]
        cmd += ["s3", "cp", "--no-progress", ctx.payload, url]
        try:
            p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                               timeout=HARD_LIMIT)
        except subprocess.TimeoutExpired:
            return {"error": f"killed after {HARD_LIMIT} s"}
        rep = {"sent_expect": None, "status": None, "proto": None, "t_headers": None,
               "t_100": None, "t_body": None, "t_final": None, "t_done": None,
               "fallback": False, "error": None, "statuses": []}
        t0 = None
        for line in p.stderr.splitlines():
            m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) - \S+ - (\S+) - \w+ - (.*)",
                         line)
            if not m:
                continue
            t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").timestamp() * 1000 \
                + int(m.group(2))
            text = m.group(4)
            if text.startswith("Adding expect 100 continue header"):
                rep["sent_expect"] = "100-continue"
            if text.startswith("Waiting for 100 Continue response"):
                if t0 is None:
                    t0 = t
                rep["t_headers"] = t - t0
            elif text.startswith("100 Continue response seen"):
                rep["t_100"] = rep["t_body"] = t - t0
            elif text.startswith("No response seen from server"):
                rep["fallback"] = True
                rep["t_body"] = t - t0
            elif text.startswith("Received a non 100 Continue response"):
                rep["t_final"] = t - t0
            else:
                s = re.search(r'"PUT \S+ (HTTP/[\d.]+)" (\d{3}) ', text)
                if s and t0 is not None:
                    rep["statuses"].append(int(s.group(2)))
                    rep["status"] = int(s.group(2))
                    rep["proto"] = s.group(1)
                    rep["t_done"] = t - t0
                    if rep["t_final"] is None:
                        rep["t_final"] = rep["t_done"]
        if p.returncode != 0:
            last = [l for l in p.stderr.splitlines() if l.startswith("upload failed")
                    or l.startswith("fatal error")]
            rep["error"] = last[-1] if last else f"aws exit {p.returncode}"
            if rep["status"] == 417 and "(417)" in rep["error"]:
                rep["note"] = rep["error"].split(" An error occurred ")[-1]
                rep["error"] = None
        return rep


CLIENTS = [Curl(), JavaHttpClient(), JavaURLConnection(), Go(), Node(), Aiohttp(), AwsCli()]


# -- known client defects -------------------------------------------------------

def known_defect(client, policy, proto, rep):
    """A client defect the runs show, and how to recognise it exactly; None
    when the report is not that defect."""
    if (client.key == "java-hc" and policy == "reject" and _java_feature() < 20
            and rep.get("responses") == [417] and rep.get("t_body") is None
            and rep.get("hung")):
        # JDK-8286171 (fixed in JDK 20): with expectContinue(true) a 417
        # answer is read, then the exchange never completes (the request
        # timeout no longer applies once response headers have come). Over
        # h2 it would end when the server closes the idle connection, which
        # the interop server puts off (KeepAliveTimeout 15) beyond the
        # client's 5 s watch.
        return "417 read, then hangs (JDK-8286171)"
    if (client.key == "curl" and proto == "h2-tls" and policy == "reject"
            and rep.get("exit") == 92 and rep.get("t_final") is None):
        # curl does not wait for the 100 over HTTP/2: its upload is under
        # way (its first DATA frame sent, or only queued: the trace shows
        # either) when the 417 and the RST_STREAM (NO_ERROR) that ends the
        # upload arrive, and curl 7.88 then drops the answer and reports a
        # stream error (RFC 9113 section 8.1: a client must not discard a
        # complete response because of such a reset). Whether the 417 or
        # curl's upload comes first is up to scheduling; the server's side
        # (no handler run, the 417 logged) is checked either way.
        return "stream error, 417 dropped (curl, upload under way)"
    return None


# -- one run -------------------------------------------------------------------

class Ctx:
    pass


def members(value):
    return [m.strip() for m in (value or "").split(",") if m.strip()]


def judge(ctx, client, policy, proto, run_id, rep):
    """Compare the client's report with what the server saw. Returns the
    table row and the list of failed checks."""
    server = ctx.server
    records = server.records(run_id)
    reqs = server.requests(run_id)
    fails = []
    row = {"client": client.name, "proto": proto, "policy": policy}
    sent = rep.get("sent_expect") or ""
    row["sent"] = sent
    status = rep.get("status")
    known = known_defect(client, policy, proto, rep)

    # Requests httpd read for this run, and the Expect each carried.
    # mod_log_forensic's post_read_request hook is REALLY_FIRST, as is the
    # one where mod_expect hands the field back under its own name; loaded
    # first (as here) it logs the name mod_expect keeps the field under
    # while httpd checks the header block ("Expec~", or "Expect
    # (mod_expect)" over h2): any field whose name starts with "expec" is
    # that field.
    def expect_of(h):
        vals = [v for k, v in h.items() if k.startswith("expec")]
        return ", ".join(vals) or None
    n = len(reqs)
    repeats = reqs[1:]
    if n == 0:
        fails.append("httpd read no request for this run")
    want_proto = "HTTP/2.0" if proto == "h2-tls" else "HTTP/1.1"
    if reqs and not reqs[0][0].endswith(" " + want_proto):
        fails.append(f"request line {reqs[0][0]!r} is not {want_proto}")
    if reqs and not expect_of(reqs[0][1]) and sent:
        fails.append("the request reached httpd without Expect")

    # Status.
    if known:
        row["status"] = known
    elif rep.get("error"):
        fails.append("client error: " + rep["error"])
        row["status"] = "error"
    else:
        row["status"] = str(status)
    if policy == "reject":
        if known:
            # The client dropped the answer: the server must still have
            # sent the 417 (and, below, run no handler).
            if server.statuses(run_id) != [417]:
                fails.append(f"httpd logged {server.statuses(run_id)}, want [417]")
        elif repeats:
            if status is None or not 200 <= status < 300:
                fails.append(f"status {status} after a repeat, want 2xx")
        elif status != 417:
            fails.append(f"status {status}, want 417")
    elif status is None or not 200 <= status < 300:
        if not rep.get("error"):
            fails.append(f"status {status}, want 2xx")
    if rep.get("proto") and rep["proto"] != want_proto:
        fails.append(f"client used {rep['proto']}, want {want_proto}")

    # The body, at the handler.
    accepted = policy != "reject" or repeats
    if accepted:
        if len(records) != 1:
            fails.append(f"{len(records)} handler records, want 1")
            row["bytes"] = "missing" if not records else f"{len(records)} copies"
        else:
            r = records[0]
            ok = r["bytes"] == PAYLOAD_SIZE and r["sha256"] == ctx.digest
            row["bytes"] = f"{r['bytes']} ok" if ok else f"{r['bytes']} WRONG"
            if not ok:
                fails.append(f"handler got {r['bytes']} bytes sha256 {r['sha256'][:12]}...")
            if r["protocol"] != want_proto:
                fails.append(f"handler saw {r['protocol']}, want {want_proto}")
            got = [m.lower() for m in members(r["http_expect"])]
            sent_l = [m.lower() for m in members(sent)]
            if policy == "reject":
                want, outcome = [], None        # the repeat, sent without Expect
            elif policy == "immediate":
                want = [m for m in sent_l if m != "100-continue"]
                outcome = "immediate"
            else:
                want = sent_l
                outcome = "continue" if "100-continue" in sent_l else "accepted"
            if got != want:
                fails.append(f"handler saw Expect {r['http_expect']!r}, want {', '.join(want) or None!r}")
            if r["expect_outcome"] != outcome:
                fails.append(f"EXPECT_OUTCOME {r['expect_outcome']!r}, want {outcome!r}")
            row["handler"] = f"{r['http_expect'] or '-'} / {r['expect_outcome'] or '-'}"
    else:
        row["bytes"] = "not sent" if not records else "ARRIVED"
        row["handler"] = "not run"
        if records:
            fails.append("the handler ran under Reject")
    if not accepted or policy == "reject":
        pass
    elif n != 1:
        fails.append(f"httpd read {n} requests, want 1")

    # Repeat after 417.
    if policy == "reject":
        if not repeats:
            row["repeat"] = "no"
        else:
            with_expect = [r for r in repeats if expect_of(r[1])]
            row["repeat"] = (f"yes, {len(repeats)}x" +
                             (" with Expect" if with_expect else " without Expect"))
    else:
        row["repeat"] = ""

    # Waiting: from the request headers to the first answer (100 or final),
    # or to the start of the body where the client does not show the 100
    # (it sends the body when the 100 has come). A body that went out before
    # any answer means the client did not wait at all.
    th = rep.get("t_headers") or 0.0
    if rep.get("t_final") is None and rep.get("t_body") is None and status:
        rep["t_final"] = rep.get("t_done")
    answers = [t for t in (rep.get("t_100"), rep.get("t_final")) if t is not None]
    if rep.get("t_body") is not None and client.shows_100 and (
            not answers or rep["t_body"] < min(answers)):
        # The body went out before any answer: the client did not wait.
        what, first = "body sent at once", rep["t_body"]
    elif rep.get("t_100") is not None:
        what, first = "100", rep["t_100"]
    elif rep.get("t_final") is not None and (rep.get("t_body") is None
                                             or rep["t_final"] <= rep["t_body"]):
        what, first = str(status if status else 417), rep["t_final"]
    elif rep.get("t_body") is not None:
        what, first = "body", rep["t_body"]
    else:
        what, first = None, None
    limit = client.wait_limit()
    if rep.get("fallback"):
        row["wait"] = f"YES, {first - th:.0f} ms: timer fired" if first is not None else "YES"
        fails.append("the client's continue timer fired: it waited for a 100 it never got")
    elif first is None:
        row["wait"] = "?"
        if not known and not rep.get("error"):
            fails.append("no timing from the client")
    else:
        wait = first - th
        if what == "body sent at once":
            row["wait"] = "no: did not wait" + (
                f" (100 after {rep['t_100'] - th:.0f} ms)" if rep.get("t_100") is not None else "")
        else:
            row["wait"] = f"no: {what} after {wait:.0f} ms"
        if wait >= limit:
            fails.append(f"first answer after {wait:.0f} ms, want < {limit:.0f} ms")
    if rep.get("t_done") is not None:
        row["upload"] = f"{rep['t_done'] - th:.0f} ms"
    else:
        row["upload"] = "-"
    row["requests"] = n
    row["ok"] = not fails
    row["fails"] = fails
    row["report"] = rep
    return row


# -- the table -----------------------------------------------------------------

COLUMNS = [("client", "client"), ("proto", "protocol"), ("policy", "policy"),
           ("sent", "Expect sent"), ("status", "status"), ("bytes", "bytes at handler"),
           ("handler", "handler saw Expect / outcome"), ("wait", "waited for 100?"),
           ("upload", "upload"), ("repeat", "repeated after 417"), ("verdict", "")]


def print_table(rows, out=sys.stdout):
    for r in rows:
        r["verdict"] = "ok" if r["ok"] else "FAIL"
    widths = {k: max(len(h), *(len(str(r.get(k, ""))) for r in rows)) for k, h in COLUMNS}
    line = " | ".join(h.ljust(widths[k]) for k, h in COLUMNS)
    print(line, file=out)
    print("-+-".join("-" * widths[k] for k, _ in COLUMNS), file=out)
    for r in rows:
        print(" | ".join(str(r.get(k, "")).ljust(widths[k]) for k, _ in COLUMNS), file=out)


# -- main ----------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--module", default=".libs/mod_expect.so")
    ap.add_argument("--build", default=".libs/interop",
                    help="where `make interop-clients` put the Java classes and the Go binary")
    ap.add_argument("--only", help="client keys, comma-separated: "
                    + ",".join(c.key for c in CLIENTS))
    ap.add_argument("--policies", help="comma-separated: " + ",".join(POLICIES))
    ap.add_argument("--protos", help="comma-separated: " + ",".join(PROTOS))
    ap.add_argument("--json", help="also write every run's row and report here")
    ap.add_argument("--keep", action="store_true",
                    help="keep the server's scratch directory (logs) afterwards")
    args = ap.parse_args()

    clients = CLIENTS
    if args.only:
        keys = args.only.split(",")
        clients = [c for c in CLIENTS if c.key in keys]
        if len(clients) != len(keys):
            ap.error("unknown client in --only")
    policies = args.policies.split(",") if args.policies else list(POLICIES)
    protos = args.protos.split(",") if args.protos else list(PROTOS)
    if not set(policies) <= set(POLICIES) or not set(protos) <= set(PROTOS):
        ap.error("unknown policy or protocol")

    # Ctrl-C or a TERM stops the server before leaving.
    def leave(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, leave)

    ctx = Ctx()
    ctx.build = os.path.abspath(args.build)
    ctx.server = Server(args.module)
    rows = []
    started = time.monotonic()
    failed = True
    interrupted = False
    try:
        ctx.server.start()
        ctx.home = os.path.join(ctx.server.dir, "home")
        os.mkdir(ctx.home)
        ctx.payload = os.path.join(ctx.server.dir, "payload.bin")
        data = os.urandom(PAYLOAD_SIZE)
        with open(ctx.payload, "wb") as f:
            f.write(data)
        ctx.digest = hashlib.sha256(data).hexdigest()

        print(f"interop: httpd {ctx.server.httpd} pid {ctx.server.proc.pid} on "
              f"127.0.0.1:{ctx.server.port} (HTTP/1.1) and :{ctx.server.tlsport} "
              f"(TLS: h2, http/1.1); module {ctx.server.module}")
        print(f"interop: payload {PAYLOAD_SIZE} bytes, sha256 {ctx.digest}")
        for c in clients:
            print(f"interop: {c.name}: {c.version()}; continue timeout {c.timeout_note}")
        sys.stdout.flush()

        for c in clients:
            for proto in protos:
                if proto not in c.protos:
                    continue
                scheme = PROTOS[proto][0]
                port = ctx.server.tlsport if scheme == "https" else ctx.server.port
                for policy in policies:
                    run_id = f"{c.key}-{proto}-{policy}"
                    expect = "100-continue"
                    if policy == "allow" and c.sends_extensions:
                        expect = "100-continue, x-foo"
                    if isinstance(c, AwsCli):
                        url = c.url(ctx, policy, proto, run_id)
                    else:
                        url = f"{scheme}://127.0.0.1:{port}/{policy}/up?run={run_id}"
                    rep = c.run(ctx, url, expect, proto)
                    row = judge(ctx, c, policy, proto, run_id, rep)
                    rows.append(row)
                    mark = "ok  " if row["ok"] else "FAIL"
                    print(f"{mark} {c.name:24} {proto:7} {policy:9} status {row['status']}, "
                          f"bytes {row['bytes']}, wait {row['wait']}, upload {row['upload']}"
                          + (f", repeated: {row['repeat']}" if policy == "reject" else ""))
                    for f in row["fails"]:
                        print(f"       - {f}")
                    sys.stdout.flush()

        print()
        print("Client table (policy: defer = ExpectContinue Defer, immediate = "
              "ExpectContinue Immediate, reject = ExpectContinue Reject, allow = "
              "ExpectAllow x-foo)")
        print_table(rows)
        n_fail = sum(1 for r in rows if not r["ok"])
        n_pass = len(rows) - n_fail
        if args.json:
            with open(args.json, "w") as f:
                json.dump(rows, f, indent=1)
        print()
        print(f"interop: {len(rows)} runs in {time.monotonic() - started:.0f} s")
        print(f"interop: {n_pass} passed, {n_fail} failed")
        failed = n_fail > 0 or not rows
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterop: interrupted; stopping httpd", file=sys.stderr)
    finally:
        # A failed run keeps the server's logs to look at; an interrupted
        # one leaves nothing behind.
        keep = args.keep or (failed and not interrupted)
        d = ctx.server.dir
        ctx.server.stop(keep=keep)
        if keep and d:
            print(f"interop: server files kept in {d} (error.log, access.log, "
                  f"forensic.log, records/)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
