'use strict';

const { HttpError } = require('@orders/runtime');

// Order numbers come from a counter that starts at 1; anything else in the
// path is a client error, answered before the database is touched.
function parseOrderId(raw) {
  const shown = JSON.stringify(raw.length > 24 ? `${raw.slice(0, 24)}…` : raw);
  if (!/^\d+$/.test(raw)) {
    throw new HttpError(400, `order id must be a positive whole number, got ${shown}`);
  }
  if (/^0+$/.test(raw)) {
    throw new HttpError(400, 'order id must be greater than zero');
  }
  if (raw.startsWith('0')) {
    throw new HttpError(400, `order id must not have leading zeros, got ${shown}`);
  }
  const id = Number(raw);
  if (!Number.isSafeInteger(id)) {
    throw new HttpError(400, `order id is too large: at most ${Number.MAX_SAFE_INTEGER}`);
  }
  return id;
}

module.exports = { parseOrderId };
