'use strict';
// The wallet's configuration, read once from the environment and checked
// before anything listens. A bad or missing value is a startup error (the
// caller prints it and exits 2); there are no config files.
//
// Required:
//   WALLET_LISTEN       host:port (or [v6]:port) to serve on
//   WALLET_RPC_URLS     comma-separated JSON-RPC URLs, primary first
//   WALLET_PRICES_URL   base URL of the price service (the wallet GETs <base>/price/ETH)
//   WALLET_ACCOUNT_KEY  0x-prefixed 32-byte private key that signs /send
// Optional (defaults are the documented failover policy, see README.md):
//   WALLET_CHAIN_ID          chain id the providers must serve (31337)
//   WALLET_RPC_TIMEOUT_MS    per provider attempt (2000)
//   WALLET_RPC_RETRIES       full passes over the providers after the first (1)
//   WALLET_PRICES_TIMEOUT_MS price service request, headers and body (2000)
//   WALLET_DEADLINE_MS       whole HTTP request, reads (10000)
//   WALLET_SEND_DEADLINE_MS  whole HTTP request, POST /send (20000)

class ConfigError extends Error {}

function parseListen(name, s) {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(s);
  if (!m) throw new ConfigError(`${name} must be host:port, got ${JSON.stringify(s)}`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new ConfigError(`${name}: port out of range: ${m[3]}`);
  return { host: m[1] || m[2], port };
}

function parseUrl(name, s) {
  let u;
  try {
    u = new URL(s);
  } catch {
    throw new ConfigError(`${name}: not a URL: ${JSON.stringify(s)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(`${name}: only http and https URLs, got ${JSON.stringify(s)}`);
  }
  return u.href.replace(/\/+$/, '');
}

function parseInt10(name, s, def, min, max) {
  if (s === undefined || s === '') return def;
  if (!/^\d+$/.test(s)) throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(s)}`);
  const n = Number(s);
  if (n < min || n > max) throw new ConfigError(`${name} must be within ${min}..${max}, got ${n}`);
  return n;
}

// env -> frozen config object; throws ConfigError naming the variable.
function configLoad(env) {
  const need = (k) => {
    const v = env[k];
    if (v === undefined || v.trim() === '') throw new ConfigError(`${k} is not set`);
    return v.trim();
  };
  const listen = parseListen('WALLET_LISTEN', need('WALLET_LISTEN'));
  const rpcUrls = need('WALLET_RPC_URLS').split(',').map((s) => s.trim()).filter((s) => s !== '')
    .map((s) => parseUrl('WALLET_RPC_URLS', s));
  if (rpcUrls.length === 0) throw new ConfigError('WALLET_RPC_URLS lists no URL');
  const pricesUrl = parseUrl('WALLET_PRICES_URL', need('WALLET_PRICES_URL'));
  const accountKey = need('WALLET_ACCOUNT_KEY');
  if (!/^0x[0-9a-fA-F]{64}$/.test(accountKey)) {
    throw new ConfigError('WALLET_ACCOUNT_KEY must be 0x followed by 64 hex digits');
  }
  return Object.freeze({
    listen,
    listenText: env.WALLET_LISTEN.trim(),
    rpcUrls,
    pricesUrl,
    accountKey,
    chainId: parseInt10('WALLET_CHAIN_ID', env.WALLET_CHAIN_ID, 31337, 1, 2 ** 48),
    rpcTimeoutMs: parseInt10('WALLET_RPC_TIMEOUT_MS', env.WALLET_RPC_TIMEOUT_MS, 2000, 50, 60000),
    rpcRetries: parseInt10('WALLET_RPC_RETRIES', env.WALLET_RPC_RETRIES, 1, 0, 5),
    pricesTimeoutMs: parseInt10('WALLET_PRICES_TIMEOUT_MS', env.WALLET_PRICES_TIMEOUT_MS, 2000, 50, 60000),
    deadlineMs: parseInt10('WALLET_DEADLINE_MS', env.WALLET_DEADLINE_MS, 10000, 100, 120000),
    sendDeadlineMs: parseInt10('WALLET_SEND_DEADLINE_MS', env.WALLET_SEND_DEADLINE_MS, 20000, 100, 120000),
  });
}

module.exports = { configLoad, ConfigError };
