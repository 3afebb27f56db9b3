import { pino, type Logger } from 'pino';

/**
 * The server's logger; its level comes from PICFLOW_LOG_LEVEL (tests use `silent`). Lines go to stdout
 * asynchronously: under load, lines that arrive while a write is under way go out together in the next one
 * (a write per line was a tenth of a busy trigger server's CPU); pino flushes what is left when the process exits.
 */
export function createLogger(level = process.env.PICFLOW_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'picflow', level }, pino.destination({ dest: 1, sync: false }));
}
