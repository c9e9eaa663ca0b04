'use strict';

const DUPLICATE_KEY = 11000;
const MAX_BATCH = 1000;

/**
 * Sequence hands out order numbers from the counter document
 * {_id: name, seq: <last number issued>}.
 *
 * Requests that arrive while an increment is in flight wait and are served
 * together by one `$inc: k`: one round trip and one write to the single, hot
 * counter document per batch instead of per order. Each increment is atomic
 * on the server, so numbers never repeat across replicas; inside a process
 * only one increment is in flight at a time, which also keeps numbering exact
 * on servers whose find-and-modify is not atomic (FerretDB).
 */
class Sequence {
  constructor(counters, name) {
    this.counters = counters;
    this.name = name;
    this.waiting = [];
    this.busy = false;
  }

  /** next resolves with a number nobody else has been given. */
  next() {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.drain();
    });
  }

  async drain() {
    if (this.busy || this.waiting.length === 0) return;
    this.busy = true;
    const batch = this.waiting.splice(0, MAX_BATCH);
    try {
      const last = await this.increment(batch.length);
      batch.forEach((waiter, i) => waiter.resolve(last - batch.length + 1 + i));
    } catch (err) {
      for (const waiter of batch) waiter.reject(err);
    } finally {
      this.busy = false;
      this.drain();
    }
  }

  async increment(count) {
    const update = () =>
      this.counters.findOneAndUpdate(
        { _id: this.name },
        { $inc: { seq: count } },
        { upsert: true, returnDocument: 'after' },
      );
    try {
      return (await update()).seq;
    } catch (err) {
      // Two replicas creating the counter at once: one upsert loses; the document exists now.
      if (err.code !== DUPLICATE_KEY) throw err;
      return (await update()).seq;
    }
  }

  /** catchUp moves the counter to at least highest, so that the next number is above it. */
  async catchUp(highest) {
    await this.counters.updateOne({ _id: this.name }, { $max: { seq: highest } }, { upsert: true });
  }
}

module.exports = { Sequence };
