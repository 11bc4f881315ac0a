#!/usr/bin/env bash
# soak/run.sh — `make soak`: many mixed requests against one httpd with
# mod_expect, then three checks:
#   1. no child crashed: no "exit signal" in the error log, same child PIDs;
#   2. every response has the status its request class must get;
#   3. the children's summed resident memory (VmRSS) after the run is within
#      SOAK_RSS_PCT percent of the sum after the warm-up.
#
# Classes, all at once (SOAK_REQUESTS in total, default 200000):
#   plain     40%  wrk    GET /index.txt                              200
#   rejected  20%  wrk    Expect: x-bad, POST with body / GET         417
#   allowed   15%  wrk    Expect: x-trace, GET / POST with body       200
#   h2        15%  h2load h2c, half Expect: x-trace (2xx), half x-bad (4xx)
#   continue  10%  soak/continue.pl: Expect: 100-continue uploads,
#                  100 Continue before the body, then 200 with the length
# Concurrency: SOAK_CONNS (default 48) connections spread over the classes.
# The warm-up (SOAK_WARMUP requests, default 400000, same mix) is not counted:
# it lets the thread allocators and mod_http2 reach their working size.
# Everything runs on 127.0.0.1:SOAK_PORT; the whole run is bounded by
# SOAK_TIMEOUT seconds per phase.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
total=${SOAK_REQUESTS:-200000}
warmup=${SOAK_WARMUP:-400000}
port=${SOAK_PORT:-9090}
conns=${SOAK_CONNS:-48}
rss_pct=${SOAK_RSS_PCT:-5}
phase_timeout=${SOAK_TIMEOUT:-900}
apxs=${APXS:-$(command -v apxs || command -v apxs2)}
so=$top/.libs/mod_expect.so

for tool in wrk h2load perl; do
  command -v $tool >/dev/null || { echo "soak: $tool is missing (wrk, nghttp2-client)"; exit 1; }
done
[ -f "$so" ] || { echo "soak: $so is missing: run make first"; exit 1; }

work=$(mktemp -d /tmp/mod_expect-soak.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/htdocs"
echo hello > "$work/htdocs/index.txt"
chmod -R a+rX "$work"
user=""
[ "$(id -u)" = 0 ] && user="User nobody
Group nogroup"
sed -e "s|@SERVERROOT@|$work|g" -e "s|@WORK@|$work|g" -e "s|@PORT@|$port|g" \
    -e "s|@DOCROOT@|$work/htdocs|g" -e "s|@SO@|$so|g" \
    -e "s|@MODULES@|$($apxs -q LIBEXECDIR)|g" \
    "$top/soak/httpd.conf.in" | awk -v u="$user" '{ if ($0 == "@USER@") print u; else print }' \
    > "$work/httpd.conf"
httpd=$($apxs -q SBINDIR)/$($apxs -q TARGET)

"$httpd" -f "$work/httpd.conf" -k start || { echo "soak: httpd did not start"; exit 1; }
stop() {
  if [ -f "$work/httpd.pid" ]; then
    "$httpd" -f "$work/httpd.conf" -k stop 2>/dev/null
    sleep 2
  fi
}
trap stop EXIT
for i in $(seq 50); do
  [ -s "$work/httpd.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$port/index.txt" && break
  sleep 0.2
done
parent=$(cat "$work/httpd.pid")

children() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$parent" ] && echo "${p#/proc/}"
  done | sort -n
}
rss_sum() {
  local sum=0 p kb
  for p in $(children); do
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
    sum=$((sum + ${kb:-0}))
  done
  echo $sum
}

# One phase: every class at once, n requests in total. Writes the result
# lines (SOAK class=... responses=... status_NNN=...) to $work/<phase>.out.
run_phase() {
  local phase=$1 n=$2 out=$work/$1.out
  local n_plain=$((n * 40 / 100)) n_rej=$((n * 20 / 100)) n_allow=$((n * 15 / 100))
  local n_h2=$((n * 15 / 100)) n_cont
  n_cont=$((n - n_plain - n_rej - n_allow - n_h2))
  local c_plain=$((conns * 2 / 8)) c_other=$((conns / 8))
  [ $c_other -lt 2 ] && c_other=2
  : > "$out"
  wrk_class() {   # class requests connections
    local done_file=$work/$phase-$1.done pid i
    : > "$done_file"
    SOAK_CLASS=$1 SOAK_PER_THREAD=$(($2 / 2)) SOAK_DONE_FILE=$done_file \
      wrk -t2 -c"$3" -d"${phase_timeout}s" --timeout 30s -s "$top/soak/wrk.lua" \
      "http://127.0.0.1:$port" > "$work/$phase-$1.log" 2>&1 &
    pid=$!
    # wrk runs for its -d duration whatever happens; once both threads
    # have their quota, SIGINT makes it stop and report (done()).
    for ((i = 0; i < phase_timeout * 5; i++)); do
      [ "$(wc -l < "$done_file")" -ge 2 ] && break
      kill -0 $pid 2>/dev/null || break
      sleep 0.2
    done
    kill -INT $pid 2>/dev/null
    wait $pid
    grep '^SOAK' "$work/$phase-$1.log" >> "$out"
  }
  h2_class() {    # expect-value requests connections label
    timeout "$phase_timeout" h2load -n "$2" -c "$3" -m 4 -H "expect: $1" \
      "http://127.0.0.1:$port/index.txt" > "$work/$phase-h2-$4.log" 2>&1
    awk -v label="$4" '
      /^requests:/ { done = $8 }
      /^status codes:/ { s2 = $3; s4 = $7 }
      END { printf "SOAK class=%s responses=%d status_2xx=%d status_4xx=%d errors=%d\n",
                   label, s2 + s4, s2, s4, 0 }' "$work/$phase-h2-$4.log" >> "$out"
  }
  wrk_class plain $((n_plain / 2 * 2)) "$c_plain" &
  wrk_class rejected $((n_rej / 2 * 2)) "$c_other" &
  wrk_class allowed $((n_allow / 2 * 2)) "$c_other" &
  h2_class x-trace $((n_h2 / 2)) "$c_other" h2-allowed &
  h2_class x-bad $((n_h2 - n_h2 / 2)) "$c_other" h2-rejected &
  timeout "$phase_timeout" perl "$top/soak/continue.pl" "$port" "$c_other" "$n_cont" >> "$out" 2>&1 &
  wait
}

get() {   # file class key
  awk -v c="class=$2" -v k="$3" '$2 == c { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$1" | head -1
}

echo "soak: httpd $parent on 127.0.0.1:$port, work dir $work"
echo "soak: warm-up, $warmup requests"
run_phase warmup "$warmup"
kids_before=$(children | tr '\n' ' ')
rss_before=$(rss_sum)
echo "soak: after warm-up: children $kids_before RSS ${rss_before} kB"

echo "soak: run, $total requests at $conns connections"
start=$(date +%s)
run_phase run "$total"
elapsed=$(( $(date +%s) - start ))
kids_after=$(children | tr '\n' ' ')
rss_after=$(rss_sum)
echo "soak: after the run:  children $kids_after RSS ${rss_after} kB (${elapsed}s)"

fail=0
out=$work/run.out
printf 'soak: %-12s %9s  %s\n' class responses statuses
sum=0
check() {  # class want-code want-count
  local resp got errs
  resp=$(get "$out" "$1" responses); got=$(get "$out" "$1" "status_$2"); errs=$(get "$out" "$1" errors)
  printf 'soak: %-12s %9s  %s\n' "$1" "${resp:-0}" "$(awk -v c="class=$1" '$2 == c { $1 = $2 = ""; print }' "$out")"
  sum=$((sum + ${resp:-0}))
  if [ "${resp:-0}" -lt "$3" ] || [ "${got:-0}" != "${resp:-0}" ] || [ "${errs:-1}" != 0 ]; then
    echo "soak: FAIL: $1: want $3 responses, all $2, no errors"
    fail=1
  fi
}
n=$total
check plain 200 $((n * 40 / 100 / 2 * 2))
check rejected 417 $((n * 20 / 100 / 2 * 2))
check allowed 200 $((n * 15 / 100 / 2 * 2))
check h2-allowed 2xx $((n * 15 / 100 / 2))
check h2-rejected 4xx $((n * 15 / 100 - n * 15 / 100 / 2))
check continue 200 $((n - n * 40 / 100 - n * 20 / 100 - n * 15 / 100 - n * 15 / 100))
bad100=$(get "$out" continue bad_100)
[ "${bad100:-1}" = 0 ] || { echo "soak: FAIL: $bad100 uploads got no 100 Continue first"; fail=1; }
echo "soak: $sum responses in ${elapsed}s"

if grep -q "exit signal" "$work/error_log"; then
  echo "soak: FAIL: a child crashed:"; grep "exit signal" "$work/error_log" | head -5; fail=1
fi
if [ "$kids_before" != "$kids_after" ]; then
  echo "soak: FAIL: the children changed ($kids_before -> $kids_after)"; fail=1
fi
limit=$((rss_before * rss_pct / 100))
diff=$((rss_after - rss_before)); [ $diff -lt 0 ] && diff=$((-diff))
pct=$(awk -v a="$rss_after" -v b="$rss_before" 'BEGIN { printf "%+.2f", (a - b) * 100 / b }')
echo "soak: RSS ${rss_before} kB -> ${rss_after} kB (${pct}%, limit ${rss_pct}%)"
if [ "$diff" -gt "$limit" ]; then
  echo "soak: FAIL: resident memory moved more than ${rss_pct}%"; fail=1
fi
if [ $fail = 0 ]; then
  echo "make soak: PASS"; trap - EXIT; stop; rm -rf "$work"
else
  echo "make soak: FAIL (logs in $work)"; trap - EXIT; stop
fi
exit $fail
