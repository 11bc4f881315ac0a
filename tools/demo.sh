#!/usr/bin/env bash
# tools/demo.sh — serve the mod_expect demo on 127.0.0.1 until interrupted.
#
#   tools/demo.sh                 (what `make run` does after building)
#   PORT=9000 tools/demo.sh
#
# Generates an httpd configuration from conf/demo.conf.in in a scratch
# directory, starts httpd in the foreground on 127.0.0.1, prints curl commands
# that show each policy, and stops httpd (and removes the scratch directory)
# on Ctrl-C. As root, httpd's children run as nobody.
#
# Environment:
#   PORT    port to listen on (default 8417; when PORT is not set and 8417 is
#           taken, the next free port up to 8436 is used)
#   MODULE  the module to load (default: .libs/mod_expect.so of this tree)
#   HTTPD   the httpd binary (default: found with apxs, else /usr/sbin/apache2)
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

top=$(cd "$(dirname "$0")/.." && pwd)
module=${MODULE:-$top/.libs/mod_expect.so}

die() { echo "demo: $*" >&2; exit 1; }

[ -f "$module" ] || die "$module not found; build it first with: make"
case $module in /*) ;; *) module=$(pwd)/$module ;; esac

apxs=$(command -v apxs 2>/dev/null || command -v apxs2 2>/dev/null || true)
moddir=
if [ -n "$apxs" ]; then
  moddir=$("$apxs" -q LIBEXECDIR 2>/dev/null || true)
fi
[ -n "$moddir" ] && [ -d "$moddir" ] || moddir=/usr/lib/apache2/modules
[ -f "$moddir/mod_mpm_event.so" ] || die "no httpd modules in $moddir (is apache2 installed?)"

httpd=${HTTPD:-}
if [ -z "$httpd" ] && [ -n "$apxs" ]; then
  httpd="$("$apxs" -q SBINDIR 2>/dev/null)/$("$apxs" -q TARGET 2>/dev/null)" || httpd=
fi
[ -n "$httpd" ] && [ -x "$httpd" ] || httpd=/usr/sbin/apache2
[ -x "$httpd" ] || die "httpd not found; set HTTPD=/path/to/httpd"

port_busy() {
  # A successful connect means something already listens there.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if [ -n "${PORT:-}" ]; then
  case $PORT in
    ''|*[!0-9]*) die "PORT='$PORT' is not a port number" ;;
  esac
  [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "PORT=$PORT is out of range"
  port_busy "$PORT" && die "127.0.0.1:$PORT is already in use; choose another with PORT=..."
  port=$PORT
else
  port=
  for p in $(seq 8417 8436); do
    if ! port_busy "$p"; then port=$p; break; fi
  done
  [ -n "$port" ] || die "ports 8417-8436 are all in use; choose one with PORT=..."
fi

if [ "$(id -u)" -eq 0 ]; then
  # httpd's children drop to this user, so everything they read must be
  # world-readable: a scratch directory under /tmp, not the source tree.
  user=nobody
  group=$(id -gn nobody 2>/dev/null || echo nogroup)
  scratch_parent=/tmp
else
  user=$(id -un)
  group=$(id -gn)
  scratch_parent=${TMPDIR:-/tmp}
fi

demodir=$(mktemp -d "$scratch_parent/mod_expect-demo.XXXXXX")
pid=

cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$demodir"
}
trap cleanup EXIT
trap 'echo; echo "demo: stopping httpd"; exit 0' INT TERM

mkdir "$demodir/htdocs" "$demodir/cgi-bin"
cp "$top/conf/demo/index.txt" "$demodir/htdocs/index.txt"
cp "$top/conf/demo/echo.cgi" "$demodir/cgi-bin/echo.cgi"
upload=$demodir/upload.bin
head -c 2097152 /dev/zero > "$upload"

conf=$(<"$top/conf/demo.conf.in")
conf=${conf//@DEMODIR@/$demodir}
conf=${conf//@PORT@/$port}
conf=${conf//@MODDIR@/$moddir}
conf=${conf//@MODULE@/$module}
conf=${conf//@USER@/$user}
conf=${conf//@GROUP@/$group}
printf '%s\n' "$conf" > "$demodir/httpd.conf"

chmod 755 "$demodir" "$demodir/htdocs" "$demodir/cgi-bin" "$demodir/cgi-bin/echo.cgi"
chmod 644 "$demodir/htdocs/index.txt" "$demodir/httpd.conf" "$upload"

"$httpd" -t -d "$demodir" -f "$demodir/httpd.conf" >/dev/null 2>"$demodir/configtest.log" || {
  cat "$demodir/configtest.log" >&2
  die "the generated configuration does not pass '$httpd -t'"
}

"$httpd" -d "$demodir" -f "$demodir/httpd.conf" -DFOREGROUND &
pid=$!

ready=
for _ in $(seq 1 50); do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    pid=
    echo "demo: httpd did not start; its error log says:" >&2
    cat "$demodir/error.log" >&2 2>/dev/null || true
    exit 1
  fi
  if port_busy "$port"; then ready=1; break; fi
  sleep 0.2
done
[ -n "$ready" ] || die "httpd did not start listening on 127.0.0.1:$port"

url=http://127.0.0.1:$port
cat <<EOF

mod_expect demo: $url/   (httpd pid $pid, files in $demodir)

One URL per policy, each answered by an upload echo handler that reports the
bytes it received, the Expect field that reached it and EXPECT_OUTCOME:
  /defer  /immediate  /reject  /allow  /ignore  /problem  /off
Try these from another terminal:

# A 2 MiB upload: curl sends "Expect: 100-continue" by itself. Defer answers
# "100 Continue" when the handler reads the body, Immediate before it runs.
curl -sSv --data-binary @$upload $url/defer 2>&1 | grep -E '^(> Expect|< HTTP|\{)'
curl -sSv --data-binary @$upload $url/immediate 2>&1 | grep -E '^(> Expect|< HTTP|\{)'

# ExpectContinue Reject: a JSON 417 at once (no one-second wait); the client
# repeats the upload without the expectation.
curl -sS -i --data-binary @$upload $url/reject
curl -sS -H 'Expect:' --data-binary @$upload $url/reject

# An unknown expectation: rejected by default, accepted where ExpectAllow
# names it, dropped under ExpectUnknown Ignore.
curl -sS -H 'Expect: x-foo' -d hello $url/reject
curl -sS -H 'Expect: x-trace' -d hello $url/allow
curl -sS -H 'Expect: x-foo' -d hello $url/allow
curl -sS -H 'Expect: x-foo' -d hello $url/ignore

# The 417 as application/problem+json, and stock httpd's HTML 417 (Engine Off).
curl -sS -i -H 'Expect: x-foo' -d hello $url/problem
curl -sS -i -H 'Expect: x-foo' -d hello $url/off

# HEAD: the 417's headers only.
curl -sS -I -H 'Expect: x-foo' $url/reject

# The body of a rejected request that was sent anyway is read and discarded,
# so the connection is reused (second request: 0 new connections); stock
# httpd (/off) closes it.
curl -sS -o /dev/null -o /dev/null -w '%{http_code} new connections: %{num_connects}\\n' -H 'Expect: x-foo' -d hello $url/reject $url/ignore
curl -sS -o /dev/null -o /dev/null -w '%{http_code} new connections: %{num_connects}\\n' -H 'Expect: x-foo' -d hello $url/off $url/ignore

Decisions are logged (LogLevel expect:debug): tail -f $demodir/error.log
Access log lines (with EXPECT_OUTCOME) follow below. Press Ctrl-C to stop.

EOF

rc=0
wait "$pid" || rc=$?
pid=
echo "demo: httpd exited with status $rc; see the messages above" >&2
exit "$rc"
