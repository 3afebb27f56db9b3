import { pino, type Logger } from 'pino';

/** The server's logger; its level comes from PICFLOW_LOG_LEVEL (tests use `silent`). */
export function createLogger(level = process.env.PICFLOW_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'picflow', level });
}
