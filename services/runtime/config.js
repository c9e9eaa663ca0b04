'use strict';

// Configuration comes from the environment only (twelve-factor); every value is
// checked at start-up so a typo fails fast with a message naming the variable.

class ConfigError extends Error {}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];

function integer(env, name, fallback, { min, max }) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/**
 * loadConfig reads the service's settings from env.
 * @param {Record<string, string|undefined>} env
 * @param {{service: string, defaultPort: number}} defaults
 */
function loadConfig(env, { service, defaultPort }) {
  const mongoUrl = env.MONGODB_URL;
  if (!mongoUrl) {
    throw new ConfigError('MONGODB_URL is not set: it must be a MongoDB connection string such as mongodb://user:password@host:27017/?authSource=DevOpsAssignment');
  }
  if (!/^mongodb(\+srv)?:\/\/[^/?#]+/.test(mongoUrl)) {
    // Never echo the value: it may hold a password.
    throw new ConfigError('MONGODB_URL must start with mongodb:// or mongodb+srv:// followed by a host');
  }
  const database = env.MONGODB_DB || 'DevOpsAssignment';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(database)) {
    throw new ConfigError(`MONGODB_DB must be 1-63 letters, digits, '_' or '-', got ${JSON.stringify(database)}`);
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  }
  return {
    service,
    port: integer(env, 'PORT', defaultPort, { min: 0, max: 65535 }),
    mongoUrl,
    database,
    logLevel,
    // Longer than a request may take, shorter than Kubernetes' grace period (30 s by default).
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10000, { min: 100, max: 300000 }),
    // Orders carry no payload today; anything large is abuse.
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 4096, { min: 2, max: 1048576 }),
    // How long a request waits for an unreachable database before answering 503.
    dbTimeoutMs: integer(env, 'DB_TIMEOUT_MS', 2000, { min: 100, max: 60000 }),
  };
}

module.exports = { loadConfig, ConfigError, LOG_LEVELS };
