// mod_expect interop client: Node.js core http/https (HTTP/1.1) or http2
// (h2 over TLS, IX_PROTO=h2).
//
// One PUT of IX_FILE to IX_URL with "Expect: IX_EXPECT". The body is sent
// when the 'continue' event comes; Node has no continue timeout of its own,
// so this client gives up waiting after IX_TIMEOUT seconds and sends the body
// anyway (reported as "fallback"). A final answer that comes instead of the
// 100 ends the request without the body. Prints one JSON object: the status,
// the protocol, and when (ms after the request started) the headers went
// out, the 100 came, the body started and the answer ended.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const http2 = require('http2');

const env = process.env;
const url = new URL(env.IX_URL);
const file = env.IX_FILE;
const expect = env.IX_EXPECT;
const timeoutMs = Number(env.IX_TIMEOUT) * 1000;
const ca = env.IX_CA ? fs.readFileSync(env.IX_CA) : undefined;
const size = fs.statSync(file).size;

const rep = {
  client: 'Node.js ' + process.version + (env.IX_PROTO === 'h2' ? ' http2' : (url.protocol === 'https:' ? ' https' : ' http')),
  status: null, proto: null, sent_expect: expect,
  t_headers: null, t_100: null, t_body: null, t_done: null,
  fallback: false, error: null,
};
const start = process.hrtime.bigint();
const now = () => Number(process.hrtime.bigint() - start) / 1e6;
let finished = false;
function finish(err) {
  if (finished) return;
  finished = true;
  if (err) rep.error = String(err && err.message || err);
  process.stdout.write(JSON.stringify(rep) + '\n');
  process.exit(0);
}
// Nothing may keep this client beyond its own limits.
setTimeout(() => finish('no answer within ' + (4 * timeoutMs) + ' ms'), 4 * timeoutMs).unref();

function sendBody(stream, why) {
  if (rep.t_body !== null) return;
  rep.t_body = now();
  if (why === 'timeout') rep.fallback = true;
  fs.createReadStream(file).pipe(stream);
}

if (env.IX_PROTO === 'h2') {
  const session = http2.connect(url.origin, { ca });
  session.on('error', finish);
  const stream = session.request({
    ':method': 'PUT',
    ':path': url.pathname + url.search,
    'content-type': 'application/octet-stream',
    'content-length': String(size),
    'expect': expect,
  }, { endStream: false });
  rep.t_headers = now();
  let timer = setTimeout(() => sendBody(stream, 'timeout'), timeoutMs);
  stream.on('continue', () => {
    if (rep.t_100 === null) rep.t_100 = now();
    clearTimeout(timer);
    sendBody(stream, 'continue');
  });
  stream.on('response', (headers) => {
    clearTimeout(timer);
    rep.status = Number(headers[':status']);
    rep.proto = 'HTTP/2.0';
    // A final answer before the 100: the body is not sent.
    if (rep.t_body === null) stream.end();
  });
  stream.on('data', () => {});
  stream.on('end', () => { rep.t_done = now(); session.close(); finish(); });
  stream.on('error', finish);
} else {
  const mod = url.protocol === 'https:' ? https : http;
  const req = mod.request(url, {
    method: 'PUT',
    ca,
    agent: false,
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': size,
      'Expect': expect,
    },
  });
  // With an Expect header Node sends the headers at once.
  req.on('socket', (sock) => {
    const mark = () => { if (rep.t_headers === null) rep.t_headers = now(); };
    if (sock.connecting || (sock.encrypted && !sock._secureEstablished)) {
      sock.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', mark);
    } else {
      mark();
    }
  });
  let timer = setTimeout(() => sendBody(req, 'timeout'), timeoutMs);
  req.on('continue', () => {
    if (rep.t_100 === null) rep.t_100 = now();
    clearTimeout(timer);
    sendBody(req, 'continue');
  });
  req.on('response', (res) => {
    clearTimeout(timer);
    rep.status = res.statusCode;
    rep.proto = 'HTTP/' + res.httpVersion;
    res.on('data', () => {});
    res.on('end', () => {
      rep.t_done = now();
      // A final answer before the 100: the body was never sent.
      if (rep.t_body === null) req.destroy();
      finish();
    });
  });
  req.on('error', finish);
  req.flushHeaders();
}
