'use strict';
// One-line, bounded descriptions of errors for logs and for the "error"
// field of the wallet's answers: viem's short message, its details, and the
// socket-level code found in the cause chain.

// First line of an error's most useful message, bounded.
function errText(err) {
  if (!err) return 'unknown error';
  let s = err.shortMessage || err.message || String(err);
  if (err.details && !s.includes(err.details)) s += ` (${err.details})`;
  s = s.split('\n')[0];
  // The socket-level reason (ECONNREFUSED, EHOSTUNREACH, ...) sits deep in
  // the cause chain; it is what tells a dead provider from an unreachable one.
  let code = null;
  for (let e = err, i = 0; e && i < 8; e = e.cause, i++) {
    if (typeof e.code === 'string') code = e.code;
  }
  if (code && !s.includes(code)) s += ` [${code}]`;
  return s.slice(0, 300);
}

module.exports = { errText };
