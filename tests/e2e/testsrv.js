// A small HTTP service for doorjam's end-to-end tests. It answers a few
// wallet-like endpoints correctly, slowly, with an error, or with wrong data,
// as told through its control endpoint, so a test can make a flow's outcome
// change while a scenario runs.
//
//   node testsrv.js PORT
//   GET  /balance     {"address": ..., "balance": "0x3635c9adc5dea00000"}
//   GET  /price       {"symbol": "ETH", "usd": "3150.25"}
//   POST /_mode       {"path": "/balance", "mode": "ok|slow|error|wrong|reset"}
//   GET  /_stats      request counts per path
'use strict';
const http = require('http');

const port = Number(process.argv[2] || 18080);
const modes = {};
const counts = {};
const good = {
  '/balance': { address: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', balance: '0x3635c9adc5dea00000' },
  '/price': { symbol: 'ETH', usd: '3150.25' },
};
const wrong = {
  '/balance': { address: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', balance: '0x0' },
  '/price': { symbol: 'ETH', usd: '0' },
};

function send(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  counts[path] = (counts[path] || 0) + 1;
  if (path === '/_mode' && req.method === 'POST') {
    let data = '';
    req.on('data', (c) => { data += c; if (data.length > 4096) req.destroy(); });
    req.on('end', () => {
      try {
        const m = JSON.parse(data);
        modes[m.path] = m.mode;
        send(res, 200, { ok: true });
      } catch (e) {
        send(res, 400, { error: String(e) });
      }
    });
    return;
  }
  if (path === '/_stats') return send(res, 200, counts);
  if (!good[path]) return send(res, 404, { error: 'no such endpoint' });
  const mode = modes[path] || 'ok';
  switch (mode) {
    case 'slow': return setTimeout(() => send(res, 200, good[path]), 1500);
    case 'error': return send(res, 503, { error: 'service unavailable' });
    case 'wrong': return send(res, 200, wrong[path]);
    case 'reset': return req.socket.destroy();
    default: return send(res, 200, good[path]);
  }
});
server.listen(port, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
