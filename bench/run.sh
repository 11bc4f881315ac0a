#!/usr/bin/env bash
# bench/run.sh — mod_expect against stock httpd: throughput with wrk and
# h2load, instructions per request with callgrind.  `make bench` runs it
# after building the module; BENCHMARKS.md explains the method and the
# figures.
#
# Two servers run from ONE configuration, bench/httpd.conf (event MPM,
# KeepAlive On): A is stock httpd, B is the same plus `-D EXPECT`, which
# loads mod_expect.  Both listen on 127.0.0.1 only.
#
# Cases: every HTTP/1.x case is one request file, bench/requests/CASE.txt
# (get post xfoo continue ab browser; bench/requests/README.md), sent
# byte for byte alike by wrk (bench/wrk.lua) and by bench/client.pl.  The
# case h2 is the browser's header lines over HTTP/2 (h2c, prior knowledge)
# with h2load, to servers that also load mod_http2 (-D BENCH_H2).
#
#  1. Status check: every HTTP/1.x case is sent to A and to B with
#     bench/client.pl and the answers (status, Content-Type, connections
#     used) are printed; B must answer as mod_expect should, or the run
#     stops.  With h2 selected, h2load checks the h2c servers too.
#  2. Throughput: wrk (h2load for h2) drives A and B in interleaved rounds
#     (A B A B ...), ROUNDS rounds of DURATION seconds each per server and
#     case; the median requests/s of each server and the ratio B/A are
#     printed.  Requests/s counts every completed final response, 417s
#     included.
#  3. Instructions: each server runs under `valgrind --tool=callgrind` as a
#     single process (`apache2 -X`, event MPM) and serves CG_N, then (in a
#     fresh process) 6*CG_N requests over one keep-alive connection (for
#     h2: streams over one h2c connection, one at a time); the difference
#     of the two totals divided by 5*CG_N is the cost of one request,
#     without start-up and shut-down.  For the cases in CG_DIFF, every
#     function whose count changed and all of mod_expect's functions are
#     listed, then the calls of allocating and copying functions.
#
# Environment (defaults in brackets):
#   CASES        throughput cases [get post xfoo continue ab browser h2]
#   ROUNDS       rounds per server and case [5]
#   DURATION     seconds per round [4]
#   THREADS      wrk and h2load threads [2]
#   CONNECTIONS  wrk connections [32]
#   H2_CLIENTS   h2load connections [8]
#   H2_STREAMS   h2load concurrent streams per connection [10]
#   CG_CASES     callgrind cases [get xfoo continue post ab browser h2];
#                empty: skip
#   CG_DIFF      cases of CG_CASES with the function-level diff
#                [get ab browser h2]
#   CG_N         N of the callgrind runs [2000]
#   CG_MPM       event | prefork: the MPM of the callgrind runs [event]
#   H2_CG_RUNS   callgrind runs of h2 (each N and 6N, A and B); the table
#                gives the medians [3]
#                (h2 always runs on event: mod_http2 does not serve h2 under
#                prefork)
#   SET          minimal | debian: the module set of both servers [minimal]
#                (debian adds what a stock Debian apache2 enables)
#   PORT_BASE    A listens on PORT_BASE+1, B on +2, callgrind on +3, the
#                h2c servers A on +4 and B on +5 [9100]
#   MODULE       the module [.libs/mod_expect.so]
#   HTTPD        the httpd binary [from apxs, else /usr/sbin/apache2]
#   KEEP=1       keep the scratch directory (logs, callgrind files)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench

CASES=${CASES-get post xfoo continue ab browser h2}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-4}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
H2_CLIENTS=${H2_CLIENTS:-8}
H2_STREAMS=${H2_STREAMS:-10}
CG_CASES=${CG_CASES-get xfoo continue post ab browser h2}
CG_DIFF=${CG_DIFF-get ab browser h2}
CG_N=${CG_N:-2000}
CG_MPM=${CG_MPM:-event}
H2_CG_RUNS=${H2_CG_RUNS:-3}
SET=${SET:-minimal}
PORT_BASE=${PORT_BASE:-9100}
module=${MODULE:-$top/.libs/mod_expect.so}

die() { echo "bench: $*" >&2; exit 1; }
say() { printf '%s\n' "$*"; }

for v in ROUNDS DURATION THREADS CONNECTIONS H2_CLIENTS H2_STREAMS CG_N H2_CG_RUNS PORT_BASE; do
  case ${!v} in ''|*[!0-9]*) die "$v='${!v}' is not a number" ;; esac
done
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 50 ] || die "ROUNDS must be 1..50"
[ "$DURATION" -ge 1 ] && [ "$DURATION" -le 60 ] || die "DURATION must be 1..60"
[ "$CG_N" -ge 1 ] && [ "$CG_N" -le 100000 ] || die "CG_N must be 1..100000"
[ "$H2_CG_RUNS" -ge 1 ] && [ "$H2_CG_RUNS" -le 9 ] || die "H2_CG_RUNS must be 1..9"
case $CG_MPM in event|prefork) ;;
  *) die "CG_MPM='$CG_MPM' is neither event nor prefork" ;; esac
case $SET in minimal) setdef= ;; debian) setdef="-D BENCH_DEBIAN" ;;
  *) die "SET='$SET' is neither minimal nor debian" ;; esac

[ -f "$module" ] || die "$module not found; build it first with: make"
case $module in /*) ;; *) module=$(pwd)/$module ;; esac

# The cases: a request file each, and h2.
for c in $CASES $CG_CASES $CG_DIFF; do
  [ "$c" = h2 ] || [ -f "$bench/requests/$c.txt" ] \
    || die "unknown case '$c' (cases: $(cd "$bench/requests" && ls *.txt | sed 's/\.txt$//' | tr '\n' ' ')h2)"
done
has() { local w; for w in $1; do [ "$w" = "$2" ] && return 0; done; return 1; }
h1_cases=; for c in $CASES; do [ "$c" = h2 ] || h1_cases="$h1_cases $c"; done
want_h2=0
{ has "$CASES" h2 || has "$CG_CASES" h2; } && want_h2=1

[ -z "$h1_cases" ] || command -v wrk >/dev/null || die "wrk not found (Debian package wrk)"
[ $want_h2 = 0 ] || command -v h2load >/dev/null \
  || die "h2load not found (Debian package nghttp2-client); or leave out the case h2"
if [ -n "$CG_CASES" ]; then
  command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null \
    || die "valgrind not found (Debian package valgrind); or set CG_CASES="
fi

apxs=$(command -v apxs 2>/dev/null || command -v apxs2 2>/dev/null || true)
moddir=
[ -n "$apxs" ] && moddir=$("$apxs" -q LIBEXECDIR 2>/dev/null || true)
[ -n "$moddir" ] && [ -d "$moddir" ] || moddir=/usr/lib/apache2/modules
[ -f "$moddir/mod_mpm_event.so" ] || die "no httpd modules in $moddir"
[ $want_h2 = 0 ] || [ -f "$moddir/mod_http2.so" ] || die "no mod_http2.so in $moddir"
httpd=${HTTPD:-}
if [ -z "$httpd" ] && [ -n "$apxs" ]; then
  httpd="$("$apxs" -q SBINDIR 2>/dev/null)/$("$apxs" -q TARGET 2>/dev/null)" || httpd=
fi
[ -n "$httpd" ] && [ -x "$httpd" ] || httpd=/usr/sbin/apache2
[ -x "$httpd" ] || die "httpd not found; set HTTPD=/path/to/httpd"

port_a=$((PORT_BASE + 1)) port_b=$((PORT_BASE + 2)) port_cg=$((PORT_BASE + 3))
port_a2=$((PORT_BASE + 4)) port_b2=$((PORT_BASE + 5))
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in $port_a $port_b $port_cg $port_a2 $port_b2; do
  port_busy $p && die "127.0.0.1:$p is in use; choose other ports with PORT_BASE="
done

# As root, the wrk servers' children run as nobody (User/Group), and the
# callgrind servers run entirely as nobody (runuser), so that callgrind can
# write its output after httpd has given up root.
if [ "$(id -u)" -eq 0 ]; then
  user=nobody
  group=$(id -gn nobody 2>/dev/null || echo nogroup)
  as_user=(runuser -u "$user" --)
  rootdefs=(-C "Define BENCH_ROOT" -C "Define BENCH_USER $user"
            -C "Define BENCH_GROUP $group")
else
  user=$(id -un)
  as_user=()
  rootdefs=()
fi

scratch=$(mktemp -d /tmp/mod_expect-bench.XXXXXX)
chmod 755 "$scratch"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  if [ "${KEEP:-0}" = 1 ]; then
    say "bench: scratch directory kept: $scratch"
  else
    rm -rf "$scratch"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The module is copied, so that a rebuild during the run changes nothing.
cp "$module" "$scratch/mod_expect.so"
for src in "$top"/mod_expect.c "$top"/expect_*.[ch]; do
  [ -f "$src" ] && cp "$src" "$scratch/"
done
mkdir "$scratch/docs"
printf '<html><body>hello, benchmark</body></html>\n' >"$scratch/docs/index.html"
chmod -R a+rX "$scratch"

# A run directory (pid file, logs, scoreboard) writable by the server.
rundir() {
  mkdir -p "$scratch/$1"
  [ "$(id -u)" -eq 0 ] && chown "$user" "$scratch/$1"
  return 0
}

# httpd arguments for server $1 (a or b), port $2, MPM $3, run directory
# $4; a fifth argument h2 loads mod_http2 (h2c) as well.
httpd_args() {
  local extra=()
  [ "$1" = b ] && extra+=(-D EXPECT)
  [ "${5:-}" = h2 ] && extra+=(-D BENCH_H2)
  printf '%s\0' -f "$bench/httpd.conf" \
    -C "Define BENCH_PORT $2" -C "Define BENCH_RUN $scratch/$4" \
    -C "Define BENCH_DOCS $scratch/docs" -C "Define BENCH_MODDIR $moddir" \
    -C "Define BENCH_MODULE $scratch/mod_expect.so" -C "Define BENCH_MPM $3" \
    ${setdef:+$setdef} "${extra[@]}"
}

# h2load's arguments for the h2 case: the browser's header lines as -H
# options, less Host (the URL gives :authority) and Connection, which
# HTTP/2 forbids; names in lower case, as HTTP/2 wants them.
h2_headers() {
  local line name value
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    case $line in *:*) ;; *) continue ;; esac   # the request line
    name=${line%%:*} value=${line#*:}
    value=${value# }
    name=${name,,}
    case $name in host|connection|keep-alive|proxy-connection|transfer-encoding|upgrade) continue ;; esac
    printf '%s\0' -H "$name: $value"
  done < <(tail -n +2 "$bench/requests/browser.txt")
}
mapfile -d '' h2hdr < <(h2_headers)

# h2load's summary as "done succeeded s2xx s4xx s5xx req/s protocol".
h2_summary() {
  awk '/^requests:/ { done = $6; ok = $8 }
       /^status codes:/ { s2 = $3; s4 = $7; s5 = $9 }
       /^finished in/ { rps = $4; sub(/,$/, "", rps) }
       /^Application protocol:/ { proto = $3 }
       END { printf "%d %d %d %d %d %.0f %s\n", done, ok, s2, s4, s5, rps, proto }'
}

# h2load over one connection, one stream at a time: port count [timeout]
h2_serial() {
  timeout "${3:-900}" h2load -n "$2" -c 1 -m 1 -t 1 "${h2hdr[@]}" \
    "http://127.0.0.1:$1/index.html" 2>&1
}

wait_port() {   # pid port
  local i
  for i in $(seq 1 150); do
    kill -0 "$1" 2>/dev/null || return 1
    port_busy "$2" && return 0
    sleep 0.2
  done
  return 1
}

start_server() {   # a|b port [h2] -> sets $server_pid
  local args=() dir=$1${3:-}
  rundir "$dir"
  mapfile -d '' args < <(httpd_args "$1" "$2" mpm_event "$dir" "${3:-}")
  "$httpd" "${args[@]}" "${rootdefs[@]}" -DFOREGROUND \
    >"$scratch/$dir/stdout" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  wait_port "$server_pid" "$2" || {
    cat "$scratch/$dir/stdout" "$scratch/$dir/error_log" 2>/dev/null >&2 || true
    die "server $dir did not start"
  }
}

stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

median() { sort -g | awk '{ v[NR] = $1 } END {
  if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ------------------------------------------------------------------ machine
say "== mod_expect benchmark: stock httpd (A) against httpd + mod_expect (B)"
say "machine:  $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
say "httpd:    $("$httpd" -v | sed -n 's/^Server version: //p'), event MPM; module set: $SET"
say "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
say "module:   $module ($(sha256sum "$module" | cut -c1-12))"
say "requests:"
for f in "$bench"/requests/*.txt; do
  c=$(basename "$f" .txt)
  printf '  %-9s %2d header lines, %4d bytes: %s\n' "$c" $(($(grep -c . "$f") - 1)) \
    "$(perl "$bench/client.pl" --print "$c" | wc -c)" "$(head -n1 "$f" | tr -d '\r')"
done
[ $want_h2 = 0 ] || printf '  %-9s %2d header lines over h2c (browser.txt less Host and Connection)\n' \
  h2 $((${#h2hdr[@]} / 2))
say

start_server a "$port_a"; pid_a=$server_pid
start_server b "$port_b"; pid_b=$server_pid

# ------------------------------------------------------------------ statuses
# What each server must answer: status(es), Content-Type, connections used
# for 3 requests.  Stock's column is informative; B's is enforced.  A case
# not listed here must get what get gets.
declare -A expect_a=(
  [get]="statuses=200:3 connections=1 type=text/html"
  [post]="statuses=100:3,200:3 connections=1 type=text/html"
  [xfoo]="statuses=417:3 connections=3 type=text/html"
  [continue]="statuses=200:3 connections=3 type=text/html")
declare -A expect_b=(
  [get]="statuses=200:3 connections=1 type=text/html"
  [post]="statuses=100:3,200:3 connections=1 type=text/html"
  [xfoo]="statuses=417:3 connections=1 type=application/json"
  [continue]="statuses=200:3 connections=1 type=text/html")
say "-- status check: 3 requests per case over keep-alive (client reconnects when the server closes)"
bad=0
for f in "$bench"/requests/*.txt; do
  c=$(basename "$f" .txt)
  for s in a b; do
    port=$port_a; [ $s = b ] && port=$port_b
    got=$(perl "$bench/client.pl" "$port" "$c" 3 20 | sed 's/ closes=[0-9]*//')
    want=${expect_a[$c]:-${expect_a[get]}}; [ $s = b ] && want=${expect_b[$c]:-${expect_b[get]}}
    mark=ok
    if [ "$got" != "$want" ]; then
      mark="UNEXPECTED (want $want)"
      [ $s = b ] && bad=1
    fi
    printf '%-9s %s  %-62s %s\n' "$c" "$(tr a-b A-B <<<$s)" "$got" "$mark"
  done
done
[ $bad = 0 ] || die "mod_expect did not answer as it should; see above"
say

# ------------------------------------------------------------------ wrk
run_wrk() {   # case port -> prints "rps s200 s417 s100 other errors"
  local out line
  out=$(timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" \
          -d"${DURATION}s" -s "$bench/wrk.lua" \
          "http://127.0.0.1:$2/index.html" -- "$bench/requests/$1.txt" 2>&1) || true
  line=$(grep '^wrk-result' <<<"$out") || { echo "$out" >&2; die "wrk failed"; }
  awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         printf "%.0f %d %d %d %d %d\n", v["finals"] * 1e6 / v["duration_us"],
           v["s200"], v["s417"], v["s100"], v["other"],
           v["connect"] + v["read"] + v["write"] + v["timeout"] }' <<<"$line"
}

# h2load for DURATION seconds: port -> prints "rps s2xx s4xx s5xx errors"
run_h2load() {
  local out
  out=$(timeout $((DURATION + 30)) h2load -t"$THREADS" -c"$H2_CLIENTS" \
          -m"$H2_STREAMS" -D"$DURATION" "${h2hdr[@]}" \
          "http://127.0.0.1:$1/index.html" 2>&1) || true
  read -r done ok s2 s4 s5 r proto < <(h2_summary <<<"$out")
  [ "$proto" = h2c ] && [ "$done" -gt 0 ] || { echo "$out" >&2; die "h2load failed"; }
  echo "$r $s2 $s4 $s5 $((done - ok))"
}

summary=()
add_summary() {   # case
  local ma mb ra rb
  ma=$(median <"$scratch/$1.a"); mb=$(median <"$scratch/$1.b")
  ra=$(sort -g "$scratch/$1.a" | sed -n '1p;$p' | paste -sd-)
  rb=$(sort -g "$scratch/$1.b" | sed -n '1p;$p' | paste -sd-)
  summary+=("$(printf '%-9s %10.0f %10.0f %7.2f   %-17s %s' "$1" "$ma" "$mb" \
               "$(awk -v a="$ma" -v b="$mb" 'BEGIN { print b / a }')" "$ra" "$rb")")
}

if [ -n "$h1_cases" ]; then
  say "-- throughput: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds per server, A B A B ..."
  say "   (requests/s = completed final responses / duration; 'errs' = wrk socket errors,"
  say "    i.e. connections the server dropped under wrk's next request)"
  for c in $h1_cases; do
    run_wrk "$c" "$port_a" >/dev/null; run_wrk "$c" "$port_b" >/dev/null  # warm-up
    : >"$scratch/$c.a"; : >"$scratch/$c.b"
    for r in $(seq 1 "$ROUNDS"); do
      for s in a b; do
        port=$port_a; [ $s = b ] && port=$port_b
        read -r v s200 s417 s100 other errs < <(sed 's/ -/ 0/g' <<<"$(run_wrk "$c" "$port")")
        echo "$v" >>"$scratch/$c.$s"
        printf '%-9s round %d %s %8d req/s   200:%-8d 417:%-8d 100:%-8d other:%-4d errs:%d\n' \
          "$c" "$r" "$(tr a-b A-B <<<$s)" "$v" "$s200" "$s417" "$s100" "$other" "$errs"
      done
    done
    add_summary "$c"
  done
  say
fi

stop_pid "$pid_a"; stop_pid "$pid_b"

# ------------------------------------------------------------------ h2c
if [ $want_h2 = 1 ]; then
  start_server a "$port_a2" h2; pid_a=$server_pid
  start_server b "$port_b2" h2; pid_b=$server_pid
  say "-- status check h2: 3 streams over one h2c connection, the browser's header lines"
  for s in a b; do
    port=$port_a2; [ $s = b ] && port=$port_b2
    read -r done ok s2 s4 s5 r proto < <(h2_serial "$port" 3 60 | h2_summary)
    got="protocol=$proto succeeded=$ok 2xx=$s2"
    mark=ok
    if [ "$got" != "protocol=h2c succeeded=3 2xx=3" ]; then
      mark="UNEXPECTED (want protocol=h2c succeeded=3 2xx=3)"
      [ $s = b ] && die "h2: mod_expect did not answer as it should: $got"
    fi
    printf '%-9s %s  %-62s %s\n' h2 "$(tr a-b A-B <<<$s)" "$got" "$mark"
  done
  say
  if has "$CASES" h2; then
    say "-- throughput h2: h2load -t$THREADS -c$H2_CLIENTS -m$H2_STREAMS -D$DURATION, the browser's"
    say "   header lines, $ROUNDS rounds per server, A B A B ... (requests/s as h2load reports it:"
    say "   completed streams / duration; 'errs' = streams that did not succeed)"
    run_h2load "$port_a2" >/dev/null; run_h2load "$port_b2" >/dev/null  # warm-up
    : >"$scratch/h2.a"; : >"$scratch/h2.b"
    for r in $(seq 1 "$ROUNDS"); do
      for s in a b; do
        port=$port_a2; [ $s = b ] && port=$port_b2
        read -r v s2 s4 s5 errs < <(run_h2load "$port")
        echo "$v" >>"$scratch/h2.$s"
        printf '%-9s round %d %s %8d req/s   2xx:%-8d 4xx:%-8d 5xx:%-8d errs:%d\n' \
          h2 "$r" "$(tr a-b A-B <<<$s)" "$v" "$s2" "$s4" "$s5" "$errs"
      done
    done
    add_summary h2
    say
  fi
  stop_pid "$pid_a"; stop_pid "$pid_b"
fi

if [ ${#summary[@]} -gt 0 ]; then
  say "-- throughput medians ($ROUNDS rounds each; range = min-max of the rounds)"
  printf '%-9s %10s %10s %7s   %-17s %s\n' case "A req/s" "B req/s" "B/A" "A range" "B range"
  printf '%s\n' "${summary[@]}"
  say
fi

# ------------------------------------------------------------------ callgrind
# One callgrind run: server s (a|b), case, count [, run number k > 1].
# Prints the total Ir.
cg_run() {
  local s=$1 c=$2 n=$3 name="cg-$1-$2-$3${4:+-$4}" args=() vpid status h2= mpm=mpm_$CG_MPM
  [ "$c" = h2 ] && h2=h2 mpm=mpm_event
  rundir "$name"
  mapfile -d '' args < <(httpd_args "$s" "$port_cg" "$mpm" "$name" "$h2")
  "${as_user[@]}" valgrind --tool=callgrind --vgdb=no \
    --callgrind-out-file="$scratch/$name/callgrind.out" \
    "$httpd" -X "${args[@]}" >"$scratch/$name/valgrind.log" 2>&1 &
  vpid=$!
  pids+=("$vpid")
  wait_port "$vpid" "$port_cg" || {
    cat "$scratch/$name/valgrind.log" "$scratch/$name/error_log" 2>/dev/null >&2 || true
    die "callgrind server $s did not start"
  }
  if [ -n "$h2" ]; then
    h2_serial "$port_cg" "$n" >"$scratch/$name/h2load.out" || true
    read -r done ok s2 s4 s5 r proto < <(h2_summary <"$scratch/$name/h2load.out")
    [ "$proto" = h2c ] && [ "$ok" = "$n" ] && [ "$s2" = "$n" ] || {
      cat "$scratch/$name/h2load.out" >&2
      die "callgrind client failed ($s $c $n)"
    }
    status="protocol=$proto succeeded=$ok 2xx=$s2"
  else
    status=$(perl "$bench/client.pl" "$port_cg" "$c" "$n" 900) \
      || die "callgrind client failed ($s $c $n)"
  fi
  stop_pid "$vpid"
  echo "$status" >"$scratch/$name/status"
  sed -n 's/^totals: *//p' "$scratch/$name/callgrind.out" | tr -d ,
}

# The part of an h2 stream's cost spent in the request itself, in the
# HTTP/2 worker that serves it: the inclusive cost of these httpd functions,
# which mod_http2 calls once per stream and which do not call one another.
# What is left out (the HTTP/2 session on the client connection, handing
# the stream to a worker and its answer back) depends on how the threads
# happen to wait for one another, and varies from run to run.
h2_work_fns='ap_run_pre_connection|ap_create_request|ap_run_pre_read_request|ap_run_post_read_request|ap_process_request'
incl_sum() {   # callgrind.incl file
  awk -v re="^[^ ]*:($h2_work_fns) \\[" '
    { fn = $0; sub(/^ *[0-9,]+ +(\([ 0-9.]+%\) +)?/, "", fn) }
    fn ~ re { v = $1; gsub(/,/, "", v); t += v }
    END { printf "%.0f\n", t }' "$1"
}
annotate() {   # callgrind.out file
  callgrind_annotate --auto=no --threshold=100 "$1" >"${1%.out}.self" 2>/dev/null
  callgrind_annotate --auto=no --threshold=100 --inclusive=yes "$1" \
    >"${1%.out}.incl" 2>/dev/null
  callgrind_annotate --auto=no --threshold=100 --tree=both "$1" \
    >"${1%.out}.tree" 2>/dev/null
}
per_req() { awk -v a="$1" -v b="$2" -v n="$CG_N" 'BEGIN { printf "%.1f", (b - a) / (5 * n) }'; }
cg_row() {   # label A B [note]
  printf '%-9s %12.1f %12.1f %+10.1f %8.2f%%%s\n' "$1" "$2" "$3" \
    "$(awk -v a="$2" -v b="$3" 'BEGIN { print b - a }')" \
    "$(awk -v a="$2" -v b="$3" 'BEGIN { print 100 * (b - a) / a }')" "${4:+   $4}"
}

if [ -n "$CG_CASES" ]; then
  n6=$((6 * CG_N))
  say "-- instructions per request: callgrind on '$(basename "$httpd") -X' ($CG_MPM MPM, one process),"
  say "   (Ir(6N) - Ir(N)) / 5N with N=$CG_N, all requests over one keep-alive connection"
  has "$CG_CASES" h2 && {
    say "   h2: per stream, streams one at a time over one h2c connection, event MPM, every"
    say "   thread of the process; median of $H2_CG_RUNS runs.  h2-req: the stream's request work"
    say "   in its worker only (inclusive: ${h2_work_fns//|/, }), same runs"; }
  printf '%-9s %12s %12s %10s %9s\n' case "A Ir/req" "B Ir/req" "B-A" "(B-A)/A"
  h2_runs=()
  for c in $CG_CASES; do
    runs=1; [ "$c" = h2 ] && runs=$H2_CG_RUNS
    : >"$scratch/cg-$c.a"; : >"$scratch/cg-$c.b"; : >"$scratch/cg-$c-req.a"; : >"$scratch/cg-$c-req.b"
    for k in $(seq 1 "$runs"); do
      sfx=; [ "$k" -gt 1 ] && sfx=$k
      declare -A one=()
      for s in a b; do
        t1=$(cg_run "$s" "$c" "$CG_N" $sfx); t6=$(cg_run "$s" "$c" "$n6" $sfx)
        one[$s]=$(per_req "$t1" "$t6")
        echo "${one[$s]}" >>"$scratch/cg-$c.$s"
        if [ "$c" = h2 ]; then
          for n in "$CG_N" "$n6"; do annotate "$scratch/cg-$s-$c-$n${sfx:+-$sfx}/callgrind.out"; done
          per_req "$(incl_sum "$scratch/cg-$s-$c-$CG_N${sfx:+-$sfx}/callgrind.incl")" \
                  "$(incl_sum "$scratch/cg-$s-$c-$n6${sfx:+-$sfx}/callgrind.incl")" \
            >>"$scratch/cg-$c-req.$s"
          echo >>"$scratch/cg-$c-req.$s"
        fi
      done
      [ "$c" = h2 ] && h2_runs+=("$(printf '   h2 run %d: A %.1f  B %.1f  B-A %+.1f;  h2-req A %.1f  B %.1f  B-A %+.1f' \
        "$k" "${one[a]}" "${one[b]}" "$(awk -v a="${one[a]}" -v b="${one[b]}" 'BEGIN { print b - a }')" \
        "$(tail -n1 "$scratch/cg-$c-req.a")" "$(tail -n1 "$scratch/cg-$c-req.b")" \
        "$(awk -v a="$(tail -n1 "$scratch/cg-$c-req.a")" -v b="$(tail -n1 "$scratch/cg-$c-req.b")" 'BEGIN { print b - a }')")")
    done
    note=
    [ "$runs" -gt 1 ] && note="A $(sort -g "$scratch/cg-$c.a" | sed -n '1p;$p' | paste -sd-), B $(sort -g "$scratch/cg-$c.b" | sed -n '1p;$p' | paste -sd-)"
    cg_row "$c" "$(median <"$scratch/cg-$c.a")" "$(median <"$scratch/cg-$c.b")" "$note"
    if [ "$c" = h2 ]; then
      note=
      [ "$runs" -gt 1 ] && note="A $(sort -g "$scratch/cg-$c-req.a" | sed -n '1p;$p' | paste -sd-), B $(sort -g "$scratch/cg-$c-req.b" | sed -n '1p;$p' | paste -sd-)"
      cg_row h2-req "$(median <"$scratch/cg-$c-req.a")" "$(median <"$scratch/cg-$c-req.b")" "$note"
    elif has "$CG_DIFF" "$c"; then
      for s in a b; do
        for n in "$CG_N" "$n6"; do annotate "$scratch/cg-$s-$c-$n/callgrind.out"; done
      done
    fi
  done
  [ ${#h2_runs[@]} -le 1 ] || printf '%s\n' "${h2_runs[@]}"
  say
  for c in $CG_CASES; do
    has "$CG_DIFF" "$c" || continue
    f() { echo "$scratch/cg-$1-$c-$2/callgrind.$3"; }
    what="$c ($(head -n1 "$bench/requests/$c.txt" 2>/dev/null | cut -d' ' -f1-2), $(($(grep -c . "$bench/requests/$c.txt" 2>/dev/null || echo 1) - 1)) header lines)"
    [ "$c" = h2 ] && what="h2 (per stream: the browser's header lines over h2c; the first run)"
    say "-- $what, instructions per request by function: every function whose"
    say "   count differs by >= 1 between A and B, and all of mod_expect's functions"
    say "   (self cost: the function's own instructions, without its callees)"
    perl "$bench/cgdiff.pl" "$CG_N" "$(f a "$CG_N" self)" "$(f a "$n6" self)" \
      "$(f b "$CG_N" self)" "$(f b "$n6" self)" 1
    say
    expect_line="no Expect"
    grep -qi '^expect:' "$bench/requests/$c.txt" 2>/dev/null && expect_line="with Expect"
    say "-- $c ($expect_line): allocations, copies, and mod_expect's calls"
    perl "$bench/cgcalls.pl" "$CG_N" "$(f a "$CG_N" tree)" "$(f a "$n6" tree)" \
      "$(f b "$CG_N" tree)" "$(f b "$n6" tree)"
    say
  done
fi
