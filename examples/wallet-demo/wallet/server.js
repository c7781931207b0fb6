'use strict';
// The demo wallet service: a small HTTP JSON API over two (or more) Ethereum
// JSON-RPC providers and a price service. It is the target doorjam drives in
// the wallet-demo lab: its answers are what a user of a real wallet would
// see during an outage. Configuration comes from the environment only (see
// lib/config.js); failover is viem's fallback transport (see lib/chain.js).
//
//   GET  /health                 {"ok":true}  (touches no upstream)
//   GET  /balance?address=0x..   {"address","wei":"0x..","eth":"10000.0"}
//   GET  /head                   {"number":"0x..","hash":"0x.."}
//   POST /send {"to","wei"}      {"hash":"0x.."}
//   GET  /tx/<hash>              {"hash","status":"pending|success|reverted","block":"0x.."|null}
//   GET  /prices                 {"ETH":{"usd":"3150.25"}}
//   GET  /portfolio?address=0x.. {"address","eth","usd"}
//
// Errors are non-2xx with {"error":"..."}: 400 bad input, 404 unknown path or
// transaction, 405 wrong method, 413 body too large, 422 the node refused a
// transaction, 502 an upstream failed, 504 an upstream timed out or the
// request's deadline passed. Every request has a deadline, so none hangs.
//
// It carries ONE deliberate flaw (see README.md): /portfolio reports a value
// of "0.00" USD when the price service fails, instead of an error.

const http = require('node:http');
const { getAddress, isAddress, toHex } = require('viem');
const { configLoad, ConfigError } = require('./lib/config.js');
const { chainOpen } = require('./lib/chain.js');
const { pricesGet, PriceError } = require('./lib/prices.js');
const { moneyEth, moneyUsd, moneyWeiParse } = require('./lib/money.js');
const { errText } = require('./lib/errtext.js');

const MAX_REQUEST_BODY = 16 * 1024;

function log(line) {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

// An answer for the client: status plus a JSON-serialisable body.
class Reply {
  constructor(status, body) {
    this.status = status;
    this.body = body;
  }
}
const bad = (status, error) => new Reply(status, { error });

function errHas(err, name) {
  if (!err) return false;
  if (typeof err.walk === 'function') return Boolean(err.walk((e) => e && e.name === name));
  return err.name === name;
}

// A failed RPC call -> 504 when a provider timed out last, 422 when the node
// refused a transaction for a reason the user can act on, 502 otherwise.
function rpcFailure(what, err) {
  if (errHas(err, 'TimeoutError')) return bad(504, `${what}: providers timed out: ${errText(err)}`);
  if (errHas(err, 'InsufficientFundsError')) return bad(422, `${what}: ${errText(err)}`);
  return bad(502, `${what}: providers failed: ${errText(err)}`);
}

function addressParam(url) {
  const a = url.searchParams.get('address');
  if (a === null || a === '') return bad(400, 'missing query parameter: address');
  if (!isAddress(a, { strict: false })) return bad(400, `not an address: ${JSON.stringify(a.slice(0, 100))}`);
  return getAddress(a);
}

// Reads a request body of at most MAX_REQUEST_BODY bytes.
function readBody(req) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] || 0);
    if (declared > MAX_REQUEST_BODY) {
      reject(bad(413, `request body over ${MAX_REQUEST_BODY} bytes`));
      return;
    }
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > MAX_REQUEST_BODY) {
        req.pause();
        reject(bad(413, `request body over ${MAX_REQUEST_BODY} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', (e) => reject(bad(400, `reading the request: ${e.message}`)));
  });
}

function createApp(config) {
  const { pub, wallet, account } = chainOpen(config, log);
  // Sends are serialised: each takes its nonce from the provider ("pending"
  // count), so two sends in flight at once would pick the same nonce.
  let sendQueue = Promise.resolve();

  async function balance(url) {
    const address = addressParam(url);
    if (address instanceof Reply) return address;
    let wei;
    try {
      wei = await pub.getBalance({ address });
    } catch (err) {
      return rpcFailure('balance', err);
    }
    return new Reply(200, { address, wei: toHex(wei), eth: moneyEth(wei) });
  }

  async function head() {
    let block;
    try {
      block = await pub.getBlock({ blockTag: 'latest' });
    } catch (err) {
      return rpcFailure('head', err);
    }
    return new Reply(200, { number: toHex(block.number), hash: block.hash });
  }

  async function send(req) {
    let body;
    try {
      body = JSON.parse(await readBody(req));
    } catch (err) {
      return err instanceof Reply ? err : bad(400, 'the body must be JSON: {"to":"0x..","wei":"..."}');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return bad(400, 'the body must be a JSON object');
    if (typeof body.to !== 'string' || !isAddress(body.to, { strict: false })) {
      return bad(400, '"to" must be an address');
    }
    const value = moneyWeiParse(body.wei);
    if (value === null) return bad(400, '"wei" must be a decimal or 0x-hex string of a uint256');
    const to = getAddress(body.to);
    const run = sendQueue.then(async () => {
      try {
        const hash = await wallet.sendTransaction({ account, to, value });
        log(`send ${moneyEth(value)} ETH to ${to}: ${hash}`);
        return new Reply(200, { hash });
      } catch (err) {
        return rpcFailure('send', err);
      }
    });
    sendQueue = run.catch(() => {});
    return run;
  }

  async function tx(hash) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) return bad(400, 'a transaction hash is 0x followed by 64 hex digits');
    try {
      const r = await pub.getTransactionReceipt({ hash });
      return new Reply(200, { hash, status: r.status === 'success' ? 'success' : 'reverted', block: toHex(r.blockNumber) });
    } catch (err) {
      if (!errHas(err, 'TransactionReceiptNotFoundError')) return rpcFailure('tx', err);
    }
    // No receipt yet: pending if the provider knows the transaction at all.
    try {
      await pub.getTransaction({ hash });
      return new Reply(200, { hash, status: 'pending', block: null });
    } catch (err) {
      if (errHas(err, 'TransactionNotFoundError')) return bad(404, `unknown transaction ${hash}`);
      return rpcFailure('tx', err);
    }
  }

  async function prices() {
    try {
      const q = await pricesGet(config.pricesUrl, 'ETH', config.pricesTimeoutMs);
      return new Reply(200, { ETH: { usd: q.usd } });
    } catch (err) {
      if (err instanceof PriceError) return bad(err.timeout ? 504 : 502, err.message);
      throw err;
    }
  }

  async function portfolio(url) {
    const address = addressParam(url);
    if (address instanceof Reply) return address;
    // Balance and price in parallel; a balance failure is reported honestly.
    const [b, q] = await Promise.allSettled([
      pub.getBalance({ address }),
      pricesGet(config.pricesUrl, 'ETH', config.pricesTimeoutMs),
    ]);
    if (b.status === 'rejected') return rpcFailure('portfolio', b.reason);
    const wei = b.value;
    let usd;
    if (q.status === 'fulfilled') {
      usd = moneyUsd(wei, q.value.price);
    } else {
      // DELIBERATE FLAW (documented in README.md, "The deliberate flaw"):
      // when the price service times out, refuses the connection, answers
      // non-2xx or answers garbage, the portfolio is valued at 0 instead of
      // failing. The user is told, with HTTP 200, that their funds are worth
      // nothing. doorjam's portfolio flow must classify this as `wrong`. The
      // honest behaviour would be the same 502/504 that /prices returns.
      log(`portfolio: price unavailable (${errText(q.reason)}); valuing at 0`);
      usd = '0.00';
    }
    return new Reply(200, { address, eth: moneyEth(wei), usd });
  }

  async function route(req) {
    const url = new URL(req.url || '/', 'http://wallet.invalid');
    const path = url.pathname;
    const get = req.method === 'GET' || req.method === 'HEAD';
    const only = (m) => bad(405, `${req.method} not allowed on ${path}; use ${m}`);
    if (path === '/health') return get ? new Reply(200, { ok: true }) : only('GET');
    if (path === '/balance') return get ? balance(url) : only('GET');
    if (path === '/head') return get ? head() : only('GET');
    if (path === '/send') return req.method === 'POST' ? send(req) : only('POST');
    if (path === '/prices') return get ? prices() : only('GET');
    if (path === '/portfolio') return get ? portfolio(url) : only('GET');
    if (path.startsWith('/tx/')) return get ? tx(path.slice(4)) : only('GET');
    return bad(404, `no such endpoint: ${path}`);
  }

  function handle(req, res) {
    const t0 = process.hrtime.bigint();
    const deadline = req.url && req.url.startsWith('/send') ? config.sendDeadlineMs : config.deadlineMs;
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(() => resolve(bad(504, `deadline of ${deadline} ms exceeded`)), deadline);
    });
    Promise.race([route(req), late])
      .catch((err) => (err instanceof Reply ? err : bad(500, `internal error: ${errText(err)}`)))
      .then((reply) => {
        clearTimeout(timer);
        const body = JSON.stringify(reply.body);
        res.writeHead(reply.status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'cache-control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        log(`${req.method} ${req.url} ${reply.status} ${ms.toFixed(1)}ms`);
      });
  }

  return { handle, account };
}

function main() {
  let config;
  try {
    config = configLoad(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`wallet: ${err.message}\n`);
    process.exit(2);
  }
  const app = createApp(config);
  const server = http.createServer(app.handle);
  server.headersTimeout = 10000;
  server.requestTimeout = 30000;
  server.keepAliveTimeout = 5000;
  server.on('error', (err) => {
    process.stderr.write(`wallet: cannot listen on ${config.listenText}: ${err.message}\n`);
    process.exit(3);
  });
  server.listen(config.listen.port, config.listen.host, () => {
    log(`wallet: listening on ${config.listenText}; providers ${config.rpcUrls.join(' then ')}; `
      + `prices ${config.pricesUrl}; account ${app.account.address}`);
  });
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
}

main();
