'use strict';

const http = require('node:http');
const { loadConfig, ConfigError } = require('./config');
const { createLogger } = require('./log');
const { createMetrics } = require('./metrics');
const { Database } = require('./db');
const { createApp } = require('./http');

/**
 * runService starts an orders service: configuration from the environment,
 * the database connected in the background, the HTTP server, and a graceful
 * shutdown on SIGTERM or SIGINT. routes({app, route, db}) mounts the
 * service's own endpoints.
 * @returns {{server: http.Server, shutdown: (reason: string) => Promise<void>}|undefined}
 */
function runService({ service, defaultPort, routes, env = process.env }) {
  let config;
  try {
    config = loadConfig(env, { service, defaultPort });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger({ service, write: (line) => process.stderr.write(line) }).error('invalid configuration', { reason: err.message });
    process.exitCode = 1;
    return undefined;
  }

  const logger = createLogger({ service, level: config.logLevel });
  const metrics = createMetrics(service);
  const db = new Database({
    url: config.mongoUrl,
    database: config.database,
    timeoutMs: config.dbTimeoutMs,
    logger,
    metrics,
    appName: service,
  });
  const state = { draining: false, onResponseDone: () => {} };
  const app = createApp({ config, logger, metrics, db, state, routes });
  const server = http.createServer(app);
  // Idle keep-alive connections outlive the gateway's (Envoy closes first),
  // so the proxy never reuses a socket the service is closing.
  server.keepAliveTimeout = 65000;
  server.headersTimeout = 66000;
  server.requestTimeout = 30000;
  // Node's server.close() counts a connection that has not sent a request yet as
  // active and waits for it until the grace period ends (a proxy's spare
  // connection, a probe that connected and said nothing), then the service would
  // exit 1. Nothing was asked on such a connection, so draining closes it.
  const unused = new Set();
  server.on('connection', (socket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  server.on('request', (req) => unused.delete(req.socket));

  process.on('unhandledRejection', (err) => logger.error('unhandled rejection', { err, stack: err?.stack }));
  process.on('uncaughtException', (err) => {
    logger.error('uncaught exception, exiting', { err, stack: err.stack });
    process.exit(1);
  });

  let stopping;
  const shutdown = (reason) => {
    stopping ??= drainAndExit(reason);
    return stopping;
  };
  async function drainAndExit(reason) {
    logger.info('shutting down', { reason, timeoutMs: config.shutdownTimeoutMs });
    state.draining = true;
    // Connections that finish their request are closed rather than kept alive.
    state.onResponseDone = () => setImmediate(() => server.closeIdleConnections());
    for (const socket of unused) socket.destroy();
    const deadline = setTimeout(() => {
      logger.error('requests still running at the end of the grace period, closing them', { timeoutMs: config.shutdownTimeoutMs });
      server.closeAllConnections();
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    await new Promise((resolve) => server.close(resolve));
    await db.close().catch((err) => logger.warn('closing the database connection failed', { err }));
    clearTimeout(deadline);
    logger.info('stopped');
    process.exit(0);
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  db.start();
  server.on('error', (err) => {
    logger.error('HTTP server failed', { err, port: config.port });
    process.exit(1);
  });
  server.listen(config.port, () => {
    logger.info('listening', { port: server.address().port, database: config.database });
  });
  return { server, shutdown };
}

module.exports = { runService };
