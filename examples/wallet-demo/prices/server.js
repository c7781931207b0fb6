'use strict';
// The demo stack's price service: a tiny HTTP server with no dependencies
// that quotes a fixed USD price for ETH. It is the upstream the wallet's
// /prices and /portfolio endpoints depend on, and it lives in us-east-1, so a
// region outage takes it away while the RPC providers can fail over.
//
// Environment:
//   PRICES_LISTEN   host:port to listen on (required), e.g. 10.77.1.20:8081
//   PRICES_ETH_USD  the ETH price as a decimal string (default "3150.25")
//
// Endpoints:
//   GET /health      {"ok":true}
//   GET /price/ETH   {"symbol":"ETH","usd":"3150.25"}
//   anything else    404 (or 405 for a method other than GET) with {"error":"..."}
//
// It reads no request body and answers every request from memory, so it has
// no upstream and nothing to time out on.

const http = require('node:http');

function fail(msg) {
  process.stderr.write(`prices: ${msg}\n`);
  process.exit(2);
}

// "host:port" or "[v6]:port" -> { host, port }; exits on anything else.
function parseListen(s) {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(s || '');
  if (!m) fail(`PRICES_LISTEN must be host:port, got ${JSON.stringify(s || '')}`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) fail(`PRICES_LISTEN port out of range: ${m[3]}`);
  return { host: m[1] || m[2], port };
}

const listen = parseListen(process.env.PRICES_LISTEN);
const ethUsd = process.env.PRICES_ETH_USD || '3150.25';
if (!/^\d{1,12}(\.\d{1,8})?$/.test(ethUsd)) {
  fail(`PRICES_ETH_USD must be a decimal like 3150.25, got ${JSON.stringify(ethUsd)}`);
}
const quotes = { ETH: ethUsd };

function reply(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    process.stdout.write(`${new Date().toISOString()} ${req.method} ${req.url} ${res.statusCode} ${ms.toFixed(1)}ms\n`);
  });
  // A body is never needed: drain and ignore it without buffering.
  req.resume();
  const path = (req.url || '/').split('?')[0];
  if (req.method !== 'GET') return reply(res, 405, { error: `method ${req.method} not allowed` });
  if (path === '/health') return reply(res, 200, { ok: true });
  const m = /^\/price\/([A-Za-z0-9]{1,16})$/.exec(path);
  if (m) {
    const symbol = m[1].toUpperCase();
    if (!(symbol in quotes)) return reply(res, 404, { error: `no price for ${symbol}` });
    return reply(res, 200, { symbol, usd: quotes[symbol] });
  }
  return reply(res, 404, { error: `no such endpoint: ${path}` });
});
server.headersTimeout = 5000;
server.requestTimeout = 5000;
server.keepAliveTimeout = 5000;
server.on('error', (err) => fail(`cannot listen on ${process.env.PRICES_LISTEN}: ${err.message}`));
server.listen(listen.port, listen.host, () => {
  process.stdout.write(`prices: listening on ${process.env.PRICES_LISTEN}, ETH=${ethUsd} USD\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
