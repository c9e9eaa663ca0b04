'use strict';

const { randomUUID } = require('node:crypto');
const express = require('express');
const { DatabaseUnavailableError } = require('./db');

/** HttpError is an answer to the client: a status and a one-line reason. */
class HttpError extends Error {
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

// requestContext gives every request an id (kept from X-Request-Id when sane),
// and records one log line and the metrics once the response is done.
function requestContext({ logger, metrics, state }) {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const incoming = req.get('x-request-id');
    req.id = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.set('X-Request-Id', req.id);
    // The prototype allowed any origin (cors()); browsers keep working.
    res.set('Access-Control-Allow-Origin', '*');
    if (state.draining) res.set('Connection', 'close');
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = req.route ? req.route.path : 'unmatched';
      const labels = { route, method: req.method, status: String(res.statusCode) };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, seconds);
      const fields = {
        reqId: req.id,
        method: req.method,
        path: req.path,
        route,
        status: res.statusCode,
        durationMs: Math.round(seconds * 1e6) / 1e3,
      };
      if (!res.writableFinished) fields.aborted = true;
      logger.info('request', fields);
      state.onResponseDone();
    });
    next();
  };
}

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

// readBody reads at most limit bytes of any body (413 beyond), and parses it
// when it says it is JSON (400 when it is not valid). Other bodies, such as
// curl's form-encoded `-d '{}'`, are accepted and ignored.
function readBody(limit) {
  return (req, res, next) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      return next(new HttpError(413, `request body is larger than the limit of ${limit} bytes`, { Connection: 'close' }));
    }
    const chunks = [];
    let size = 0;
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      next(err);
    };
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        return finish(new HttpError(413, `request body is larger than the limit of ${limit} bytes`, { Connection: 'close' }));
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (body.length > 0 && JSON_TYPE.test(req.get('content-type') || '')) {
        try {
          req.body = JSON.parse(body.toString('utf8'));
        } catch {
          return finish(new HttpError(400, 'request body is not valid JSON'));
        }
      }
      finish();
    });
    req.on('error', (err) => finish(new HttpError(400, `request body could not be read: ${err.message}`)));
  };
}

/**
 * route mounts handlers by method on one path, each behind the middleware in
 * before; any other method gets 405 with an Allow header, OPTIONS gets the
 * CORS preflight answer.
 * @param {import('express').Express} app
 * @param {string} path
 * @param {Record<string, import('express').RequestHandler>} handlers e.g. {POST: fn}
 * @param {import('express').RequestHandler[]} [before]
 */
function route(app, path, handlers, before = []) {
  const methods = Object.keys(handlers);
  if (methods.includes('GET')) methods.push('HEAD');
  const allow = [...methods, 'OPTIONS'].join(', ');
  const r = app.route(path);
  for (const [method, handler] of Object.entries(handlers)) r[method.toLowerCase()](...before, handler);
  r.options((req, res) => {
    res.set({ Allow: allow, 'Access-Control-Allow-Methods': allow, 'Access-Control-Allow-Headers': 'Content-Type, X-Request-Id' });
    res.status(204).end();
  });
  r.all((req) => {
    throw new HttpError(405, `method ${req.method} is not allowed here; allowed: ${allow}`, { Allow: allow });
  });
}

function sendText(res, status, text) {
  res.status(status).type('text/plain').send(text);
}

function errorHandler(logger) {
  // Express recognises error handlers by their four parameters.
  // eslint-disable-next-line no-unused-vars
  return (err, req, res, next) => {
    let status = 500;
    let message = 'internal error';
    let headers = {};
    if (err instanceof HttpError) {
      status = err.status;
      message = err.message;
      headers = err.headers;
    } else if (err instanceof DatabaseUnavailableError) {
      status = 503;
      message = 'service unavailable: the database cannot be reached, retry shortly';
      headers = { 'Retry-After': '1' };
      logger.warn('database unavailable', { reqId: req.id, err: err.cause ?? err });
    } else if (Number.isInteger(err.status) && err.status >= 400 && err.status < 500) {
      // Errors Express raises itself, such as an undecodable URL.
      status = err.status;
      message = err.expose ? err.message : 'bad request';
    } else {
      logger.error('request failed', { reqId: req.id, err, stack: err.stack });
    }
    if (res.headersSent) {
      // Part of a streamed answer is out: abort it, so the client cannot take
      // a truncated body for a complete one.
      res.destroy(err);
      return;
    }
    res.set(headers);
    sendText(res, status, message);
  };
}

/**
 * createApp builds the Express app: request context, health and metrics
 * endpoints, the service's own routes behind the body limit, 404 and errors.
 */
function createApp({ config, logger, metrics, db, state, routes }) {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(requestContext({ logger, metrics, state }));

  route(app, '/livez', { GET: (req, res) => sendText(res, 200, 'ok') });
  route(app, '/readyz', {
    GET: async (req, res) => {
      if (state.draining) return sendText(res, 503, 'shutting down');
      if (await db.ping()) return sendText(res, 200, 'ok');
      sendText(res, 503, 'database unreachable');
    },
  });
  // The prototype's health check, kept for clients that already use it.
  route(app, '/health', { GET: (req, res) => res.json('healthy') });
  route(app, '/metrics', {
    GET: async (req, res) => {
      res.type(metrics.register.contentType).send(await metrics.register.metrics());
    },
  });

  // Bodies are read (and limited) on the service's own routes only, so that
  // metrics and logs name the route that refused one.
  const withBody = [readBody(config.bodyLimitBytes)];
  routes({ app, route: (path, handlers) => route(app, path, handlers, withBody), db, logger });
  app.use((req) => {
    throw new HttpError(404, 'not found');
  });
  app.use(errorHandler(logger));
  return app;
}

module.exports = { createApp, HttpError, route };
