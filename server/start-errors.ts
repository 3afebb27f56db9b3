// What an operator reads when `picflow serve` cannot start: the problem by name, and what to do about it.
import { userInfo } from 'node:os';

type CodedError = Error & { code?: string };

const codeOf = (err: unknown): string | undefined => (err as CodedError | undefined)?.code;

function who(): string {
  try {
    return `user ${userInfo().username}`;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** The data dir or its database could not be used; other errors pass through unchanged. */
export function explainDataDirError(err: unknown, dataDir: string, databaseFile: string): unknown {
  const code = codeOf(err);
  const path = (err as { path?: string }).path ?? dataDir;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new Error(
        `the data dir ${dataDir} is not writable by ${who()} (${code} on ${path}): picflow keeps its database, lock and images there; ` +
          `give that user write access to it, or start with another --data`,
        { cause: err },
      );
    case 'SQLITE_READONLY':
      return new Error(
        `the database ${databaseFile} is read-only for ${who()}: picflow records every run in it; ` +
          `give that user write access to the file and its folder, or start with another --data`,
        { cause: err },
      );
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return new Error(
        `the database ${databaseFile} is damaged or not a picflow database (${(err as Error).message}); it was left as it is: ` +
          `restore it from a backup, or move it aside (with any picflow.db-wal beside it) to start with an empty one`,
        { cause: err },
      );
    case 'SQLITE_CANTOPEN':
      return new Error(`the database ${databaseFile} cannot be opened by ${who()}: check that the data dir exists and is writable, or start with another --data`, {
        cause: err,
      });
    default:
      return err;
  }
}

/** The port could not be opened on the host asked for; other errors pass through unchanged. */
export function explainListenError(err: unknown, host: string, port: number): unknown {
  switch (codeOf(err)) {
    case 'EADDRINUSE':
      return new Error(`port ${port} on ${host} is already in use (another picflow, or another program): stop it, or pick another port with --port (0 picks a free one)`, {
        cause: err,
      });
    case 'EACCES':
      return new Error(`${who()} may not open port ${port} on ${host} (ports below 1024 need extra rights): pick a port from 1024 up with --port`, { cause: err });
    case 'EADDRNOTAVAIL':
      return new Error(`--host ${host} is not an address of this machine: bind one of its addresses, 0.0.0.0 for all of them, or 127.0.0.1 for this machine only`, {
        cause: err,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Error(`--host ${host} is neither an IP address nor a name this machine resolves: give an address such as 127.0.0.1 or 0.0.0.0`, { cause: err });
    default:
      return err;
  }
}
