'use strict';
// The wallet's view of the chain: one viem public client (reads) and one
// wallet client (signs locally with the configured key, then broadcasts),
// both over the same failover policy:
//
//   fallback([http(primary), http(backup), ...], { rank: false, retryCount, retryDelay: 150 })
//
// * Each provider attempt has its own timeout (WALLET_RPC_TIMEOUT_MS, 2 s):
//   viem's default of 10 s would make every read wait 10 s behind a hanging
//   primary, longer than a user waits for a balance.
// * The http transports themselves never retry: viem's fallback runs them
//   with retryCount 0 and retries the whole pass over all providers instead,
//   `retryCount` times (WALLET_RPC_RETRIES, 1), 150 ms later, doubling (or
//   after the server's Retry-After).
// * rank is off, as in most wallets: the order is fixed, primary first, and a
//   provider that hangs costs its timeout on every call. Ranking would also
//   let the two independent lab nodes swap places while healthy, and a
//   transaction sent through one would then be looked up on the other.
// * Response bodies are capped (4 MiB), so a provider cannot make the wallet
//   buffer without bound.
// The clients keep no cache (cacheTime 0): every answer is the provider's
// answer of the moment.

const {
  createPublicClient, createWalletClient, defineChain, fallback, http,
} = require('viem');
const { privateKeyToAccount } = require('viem/accounts');
const { errText } = require('./errtext.js');

const MAX_RPC_BODY = 4 * 1024 * 1024;

// config (from configLoad), log(line) -> { pub, wallet, account, chain }
function chainOpen(config, log) {
  const chain = defineChain({
    id: config.chainId,
    name: 'doorjam lab chain',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: config.rpcUrls } },
  });
  const transport = fallback(
    config.rpcUrls.map((url) => http(url, {
      timeout: config.rpcTimeoutMs,
      maxResponseBodySize: MAX_RPC_BODY,
    })),
    { rank: false, retryCount: config.rpcRetries, retryDelay: 150 },
  );
  const account = privateKeyToAccount(config.accountKey);
  const pub = createPublicClient({ chain, transport, cacheTime: 0 });
  const wallet = createWalletClient({ chain, transport, account, cacheTime: 0 });
  // One log line per failed provider attempt: the trail of every failover.
  const onResponse = ({ method, status, transport: t, error }) => {
    if (status !== 'error') return;
    const url = t && t.value && t.value.url ? t.value.url : '?';
    const msg = errText(error);
    log(`rpc ${method} via ${url} failed: ${msg}`);
  };
  pub.transport.onResponse(onResponse);
  wallet.transport.onResponse(onResponse);
  return { pub, wallet, account, chain };
}

module.exports = { chainOpen };
