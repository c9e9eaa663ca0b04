'use strict';

const client = require('prom-client');

// A registry per service instance (no global state), with the process
// metrics Node exposes by default.
function createMetrics(service) {
  const register = new client.Registry();
  register.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register });
  return {
    register,
    requests: new client.Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers: [register],
    }),
    duration: new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to the last byte of the response, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [register],
    }),
    dbErrors: new client.Counter({
      name: 'db_errors_total',
      help: 'Database operations that failed, by operation and kind (unavailable or error).',
      labelNames: ['operation', 'kind'],
      registers: [register],
    }),
    dbUp: new client.Gauge({
      name: 'db_up',
      help: '1 while the last database ping succeeded, 0 otherwise.',
      registers: [register],
    }),
  };
}

module.exports = { createMetrics };
