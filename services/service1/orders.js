'use strict';

const { MongoBulkWriteError, MongoServerError } = require('mongodb');

const DUPLICATE_KEY = 11000;
const MAX_ATTEMPTS = 3;

/**
 * Inserter sends the inserts asked for in one turn of the event loop as one
 * unordered insertMany. The orders of one counter batch (see Sequence) are
 * numbered together and so reach the database in one round trip and, with
 * majority write concern, one wait for the replicas, instead of one each.
 * Every caller still gets its own document's outcome: a document the server
 * refuses (a duplicate number) fails only its caller.
 */
class Inserter {
  constructor(collection) {
    this.collection = collection;
    this.pending = [];
  }

  /** insert resolves once doc is written with the collection's write concern. */
  insert(doc) {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ doc, resolve, reject });
    });
  }

  async flush() {
    const batch = this.pending;
    this.pending = [];
    try {
      await this.collection.insertMany(batch.map((p) => p.doc), { ordered: false });
      for (const p of batch) p.resolve();
    } catch (err) {
      settle(batch, err);
    }
  }
}

/**
 * settle hands each caller of a failed insertMany its own outcome. The driver
 * wraps every failure in MongoBulkWriteError: per-document write errors (the
 * others were written), a write concern error (none is acknowledged), or a
 * failure to reach the server, kept as errorResponse (none is acknowledged;
 * the original error lets the caller answer 503).
 */
function settle(batch, err) {
  if (!(err instanceof MongoBulkWriteError)) {
    for (const p of batch) p.reject(err);
    return;
  }
  if (err.errorResponse instanceof Error) {
    for (const p of batch) p.reject(err.errorResponse);
    return;
  }
  const refused = new Map(err.writeErrors.map((we) => [we.index, we]));
  const concern = err.result?.getWriteConcernError?.();
  batch.forEach((p, i) => {
    const we = refused.get(i);
    if (we) p.reject(new MongoServerError({ errmsg: we.errmsg, code: we.code }));
    else if (concern || refused.size === 0) p.reject(err);
    else p.resolve();
  });
}

/**
 * createOrder stores the order under the next number of sequence and returns
 * the number. Numbers are never reused: one whose insert failed is skipped.
 * If the counter is behind the orders (reset by hand, or restored from an
 * older backup than the orders), the insert meets an existing order: the
 * counter is moved past the highest order and a new number is drawn.
 */
async function createOrder({ sequence, inserter, orders, logger }) {
  for (let attempt = 1; ; attempt++) {
    const number = await sequence.next();
    try {
      await inserter.insert({ _id: number });
      return number;
    } catch (err) {
      if (err.code !== DUPLICATE_KEY || attempt >= MAX_ATTEMPTS) throw err;
      const [last] = await orders.find({}, { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).toArray();
      logger.warn('order counter was behind the orders, moving it forward', { drawn: number, highest: last?._id });
      await sequence.catchUp(last?._id ?? number);
    }
  }
}

module.exports = { createOrder, Inserter };
