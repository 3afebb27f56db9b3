// The server's pino logger: level from PICFLOW_LOG_LEVEL, pretty on a terminal, JSON otherwise.
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * stdout for JSON lines: the lines of one event-loop turn are gathered and written at its end in ONE synchronous
 * write (or sooner, once 8 KiB wait). A synchronous write per line was a tenth of a busy trigger server's CPU; an
 * asynchronous one (sonic-boom's `sync: false`) is a trip to libuv's thread pool per write, which cost as much
 * again. sonic-boom's own `flushSync` is not used: it ends in an fsync, which on a log file blocked the event loop
 * for a third of a busy trigger server's time. No line waits past its turn; what is left is written at exit.
 */
function turnBufferedStdout(): DestinationStream {
  if (stdout) return stdout;
  // minLength 0: each write below is one write(2) now (sonic-boom retries EAGAIN on a non-blocking pipe).
  const out = pino.destination({ dest: 1, sync: true, minLength: 0 });
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending;
    pending = '';
    out.write(text);
  };
  process.once('exit', flush);
  return (stdout = {
    write(line: string) {
      pending += line;
      if (pending.length >= 8 * 1024) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  });
}

/** One per process, however many loggers write to stdout. */
let stdout: DestinationStream | undefined;

/**
 * The server's logger; its level comes from PICFLOW_LOG_LEVEL (tests use `silent`). On a terminal the
 * lines are human-readable (pino-pretty); piped or redirected they stay JSON, one object a line, written a
 * turn of the event loop at a time (turnBufferedStdout).
 */
export function createLogger(level = process.env.PICFLOW_LOG_LEVEL ?? 'info', tty = Boolean(process.stdout.isTTY)): Logger {
  if (!tty) return pino({ name: 'picflow', level }, turnBufferedStdout());
  return pino({ name: 'picflow', level, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } });
}
