"""mod_expect interop client: Python aiohttp with expect100=True (HTTP/1.1,
cleartext or TLS).

One PUT of IX_FILE to IX_URL asking for 100-continue. aiohttp has no continue
timeout of its own: it waits for the 100 until the request's total timeout
(4 x IX_TIMEOUT seconds, which covers the whole upload). With IX_EXPECT naming more members than 100-continue,
expect100=True cannot be used (it sets the field to exactly 100-continue):
the request then carries its own Expect lines, 100-continue first, which
turns the same wait on. Prints one JSON object: the status, the protocol and
when (ms after the request started) the headers went out, the body started
and the answer ended."""

import asyncio
import json
import os
import ssl
import time

import aiohttp


async def main():
    env = os.environ
    url, path, expect = env["IX_URL"], env["IX_FILE"], env["IX_EXPECT"]
    timeout = float(env["IX_TIMEOUT"])
    members = [m.strip() for m in expect.split(",") if m.strip()]
    rep = {"client": "Python aiohttp " + aiohttp.__version__, "status": None,
           "proto": None, "sent_expect": None, "t_headers": None, "t_100": None,
           "t_body": None, "t_done": None, "fallback": False, "error": None}
    with open(path, "rb") as f:
        data = f.read()
    start = time.monotonic()

    def now():
        return (time.monotonic() - start) * 1000

    async def headers_sent(session, ctx, params):
        if rep["t_headers"] is None:
            rep["t_headers"] = now()

    async def chunk_sent(session, ctx, params):
        # aiohttp writes the body once the 100 has come.
        if rep["t_body"] is None:
            rep["t_body"] = now()

    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(headers_sent)
    trace.on_request_chunk_sent.append(chunk_sent)
    sslctx = ssl.create_default_context(cafile=env["IX_CA"]) if env.get("IX_CA") else None
    kwargs = {"data": data, "ssl": sslctx,
              "headers": [("Content-Type", "application/octet-stream")]}
    if [m.lower() for m in members] == ["100-continue"]:
        kwargs["expect100"] = True
        rep["sent_expect"] = "100-continue"
    else:
        kwargs["headers"] += [("Expect", m) for m in members]
        rep["sent_expect"] = ", ".join(members)
    try:
        async with aiohttp.ClientSession(
                trace_configs=[trace],
                timeout=aiohttp.ClientTimeout(total=4 * timeout)) as session:
            start = time.monotonic()
            async with session.put(url, **kwargs) as resp:
                await resp.read()
                rep["t_done"] = now()
                rep["status"] = resp.status
                rep["proto"] = "HTTP/%d.%d" % (resp.version.major, resp.version.minor)
    except asyncio.TimeoutError:
        rep["error"] = "no answer within the %g s total timeout" % (4 * timeout)
    except Exception as e:  # reported, not raised: the harness judges
        rep["error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(rep))


asyncio.run(main())
