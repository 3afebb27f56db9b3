// The server's pino logger: level from PICFLOW_LOG_LEVEL, pretty on a terminal, JSON otherwise.
import { pino, type Logger } from 'pino';

/**
 * The server's logger; its level comes from PICFLOW_LOG_LEVEL (tests use `silent`). On a terminal the
 * lines are human-readable (pino-pretty); piped or redirected they stay JSON, one object a line, written
 * asynchronously: under load, lines that arrive while a write is under way go out together in the next one
 * (a write per line was a tenth of a busy trigger server's CPU); pino flushes what is left when the process exits.
 */
export function createLogger(level = process.env.PICFLOW_LOG_LEVEL ?? 'info', tty = Boolean(process.stdout.isTTY)): Logger {
  if (!tty) return pino({ name: 'picflow', level }, pino.destination({ dest: 1, sync: false }));
  return pino({ name: 'picflow', level, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } });
}
