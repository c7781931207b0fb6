'use strict';
// Client for the price service: one GET <base>/price/<SYMBOL> with a hard
// timeout that covers connect, headers and body, a capped body, and a strict
// check of the answer. Every failure is a PriceError whose `timeout` flag
// tells a slow service from a broken one; nothing is cached, so the caller
// sees exactly what the service does right now.

const { moneyPriceParse } = require('./money.js');

const MAX_BODY = 16 * 1024;

class PriceError extends Error {
  constructor(message, timeout) {
    super(message);
    this.timeout = timeout;
  }
}

// Reads at most `cap` bytes of a fetch Response body; throws past the cap.
async function readCapped(res, cap) {
  const chunks = [];
  let n = 0;
  for await (const chunk of res.body) {
    n += chunk.length;
    if (n > cap) throw new PriceError(`price service body exceeds ${cap} bytes`, false);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// -> { usd: "3150.25", price: BigInt scaled by 1e8 }; throws PriceError.
async function pricesGet(baseUrl, symbol, timeoutMs) {
  const url = `${baseUrl}/price/${encodeURIComponent(symbol)}`;
  const signal = AbortSignal.timeout(timeoutMs);
  let text;
  let status;
  try {
    const res = await fetch(url, { signal, headers: { accept: 'application/json' } });
    status = res.status;
    text = await readCapped(res, MAX_BODY);
  } catch (err) {
    if (err instanceof PriceError) throw err;
    if (err && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      throw new PriceError(`price service timed out after ${timeoutMs} ms`, true);
    }
    const cause = err && err.cause ? (err.cause.code || err.cause.message) : '';
    throw new PriceError(`price service unreachable: ${cause || (err && err.message) || err}`, false);
  }
  if (status < 200 || status > 299) throw new PriceError(`price service answered HTTP ${status}`, false);
  let obj;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new PriceError('price service answered something that is not JSON', false);
  }
  const usd = obj && typeof obj === 'object' ? obj.usd : undefined;
  const price = moneyPriceParse(usd);
  if (price === null || obj.symbol !== symbol) {
    throw new PriceError(`price service answered an unusable quote for ${symbol}`, false);
  }
  return { usd, price };
}

module.exports = { pricesGet, PriceError };
