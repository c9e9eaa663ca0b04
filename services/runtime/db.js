'use strict';

const {
  MongoClient,
  MongoServerSelectionError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoTopologyClosedError,
  MongoOperationTimeoutError,
} = require('mongodb');

// Server error codes that mean "the database is not there right now" rather
// than "this request is wrong": answer 503 so clients and the gateway retry.
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  64, // WriteConcernFailed: not yet acknowledged by a majority
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

// Socket errors the driver sometimes passes through unwrapped (a write on a
// pooled connection the server has just closed surfaces as a bare EPIPE).
const NETWORK_ERRNOS = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

function isUnavailable(err) {
  return (
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNetworkError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoOperationTimeoutError ||
    (err != null && (UNAVAILABLE_CODES.has(err.code) || NETWORK_ERRNOS.has(err.code)))
  );
}

class DatabaseUnavailableError extends Error {
  constructor(cause) {
    super('database unreachable', { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });

/**
 * Database owns the MongoClient: it connects in the background with backoff
 * (so the service starts and reports not-ready while MongoDB is down), maps
 * connection failures to DatabaseUnavailableError, and closes the pool on
 * shutdown. The driver's monitoring reconnects by itself once connected.
 */
class Database {
  constructor({ url, database, timeoutMs, logger, metrics, appName }) {
    this.logger = logger;
    this.metrics = metrics;
    this.timeoutMs = timeoutMs;
    this.client = new MongoClient(url, {
      appName,
      serverSelectionTimeoutMS: timeoutMs,
      connectTimeoutMS: timeoutMs,
      // A server that accepts a connection and never answers must not hold a request forever.
      socketTimeoutMS: Math.max(10000, timeoutMs * 5),
      // An order is acknowledged only once a majority of the replica set has it.
      writeConcern: { w: 'majority' },
    });
    this.db = this.client.db(database);
    this.abort = new AbortController();
    this.pendingPing = null;
  }

  collection(name) {
    return this.db.collection(name);
  }

  /** start connects in the background, retrying with exponential backoff. */
  start() {
    this.connecting = this.connectWithBackoff();
  }

  async connectWithBackoff() {
    let delay = 250;
    for (let attempt = 1; !this.abort.signal.aborted; attempt++) {
      try {
        await this.client.connect();
        if (!(await this.ping())) throw new DatabaseUnavailableError();
        this.logger.info('database connected', { attempt });
        return;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.metrics.dbErrors.inc({ operation: 'connect', kind: isUnavailable(err) ? 'unavailable' : 'error' });
        this.logger.warn('database unreachable, retrying', { attempt, retryInMs: delay, err });
        await sleep(delay, this.abort.signal);
        delay = Math.min(delay * 2, 15000);
      }
    }
  }

  /**
   * ping resolves true when the database answers within a probe's budget
   * (under Kubernetes' default 1 s probe timeout); concurrent callers share
   * one round trip.
   */
  ping() {
    if (!this.pendingPing) {
      this.pendingPing = this.db
        .command({ ping: 1 }, { timeoutMS: Math.min(this.timeoutMs, 900) })
        .then(() => true, () => false)
        .then((up) => {
          this.metrics.dbUp.set(up ? 1 : 0);
          this.pendingPing = null;
          return up;
        });
    }
    return this.pendingPing;
  }

  /** run executes fn, counting failures and turning unreachability into DatabaseUnavailableError. */
  async run(operation, fn) {
    try {
      return await fn();
    } catch (err) {
      const unavailable = isUnavailable(err);
      this.metrics.dbErrors.inc({ operation, kind: unavailable ? 'unavailable' : 'error' });
      throw unavailable ? new DatabaseUnavailableError(err) : err;
    }
  }

  async close() {
    this.abort.abort();
    await this.connecting;
    await this.client.close();
  }
}

module.exports = { Database, DatabaseUnavailableError, isUnavailable };
