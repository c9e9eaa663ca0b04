'use strict';

const DUPLICATE_KEY = 11000;
const MAX_ATTEMPTS = 3;

/**
 * createOrder stores the order under the next number of sequence and returns
 * the number. Numbers are never reused: one whose insert failed is skipped.
 * If the counter is behind the orders (reset by hand, or restored from an
 * older backup than the orders), the insert meets an existing order: the
 * counter is moved past the highest order and a new number is drawn.
 */
async function createOrder({ sequence, orders, logger }) {
  for (let attempt = 1; ; attempt++) {
    const number = await sequence.next();
    try {
      await orders.insertOne({ _id: number });
      return number;
    } catch (err) {
      if (err.code !== DUPLICATE_KEY || attempt >= MAX_ATTEMPTS) throw err;
      const [last] = await orders.find({}, { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).toArray();
      logger.warn('order counter was behind the orders, moving it forward', { drawn: number, highest: last?._id });
      await sequence.catchUp(last?._id ?? number);
    }
  }
}

module.exports = { createOrder };
