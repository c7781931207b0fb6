'use strict';
// Exact decimal arithmetic for amounts shown to the user: wei (BigInt) to an
// ETH string, a price string to a scaled BigInt, and wei x price to a USD
// string with two decimals. No floating point anywhere, so a portfolio value
// can be checked digit for digit.

const WEI_PER_ETH = 10n ** 18n;
const PRICE_DECIMALS = 8;
const MAX_UINT256 = (1n << 256n) - 1n;

// 10000000000000000000000n -> "10000.0"; 1500000000000000000n -> "1.5"
function moneyEth(wei) {
  const neg = wei < 0n;
  const a = neg ? -wei : wei;
  const whole = a / WEI_PER_ETH;
  let frac = (a % WEI_PER_ETH).toString().padStart(18, '0').replace(/0+$/, '');
  if (frac === '') frac = '0';
  return `${neg ? '-' : ''}${whole}.${frac}`;
}

// "3150.25" -> 315025000000n (8 decimals); null when the text is not a
// plain non-negative decimal with at most 12 integer and 8 fraction digits.
function moneyPriceParse(s) {
  if (typeof s !== 'string') return null;
  const m = /^(\d{1,12})(?:\.(\d{1,8}))?$/.exec(s);
  if (!m) return null;
  return BigInt(m[1]) * 10n ** BigInt(PRICE_DECIMALS) + BigInt((m[2] || '').padEnd(PRICE_DECIMALS, '0'));
}

// wei x price (from moneyPriceParse) -> "31502500.00", rounded down to the cent.
function moneyUsd(wei, price) {
  const cents = (wei * price) / 10n ** BigInt(18 + PRICE_DECIMALS - 2);
  return `${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;
}

// "1000000000000000000" or "0xde0b6b3a7640000" -> BigInt; null unless a
// non-negative integer that fits in uint256.
function moneyWeiParse(s) {
  if (typeof s !== 'string' || !/^(?:0x[0-9a-fA-F]{1,64}|\d{1,78})$/.test(s)) return null;
  const v = BigInt(s);
  return v <= MAX_UINT256 ? v : null;
}

module.exports = { moneyEth, moneyPriceParse, moneyUsd, moneyWeiParse };
