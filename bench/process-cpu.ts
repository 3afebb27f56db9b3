// CPU time a child process has used so far, from /proc (Linux): on a machine shared with other work, the
// server's CPU milliseconds per request are steadier than its requests per second, which follow the share of
// the cores it happens to get. Undefined where /proc is missing.
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times (USER_HZ: 100 on Linux whatever the kernel's own tick rate). */
const TICKS_PER_SECOND = 100;

/**
 * User + system CPU milliseconds of process `pid` so far (all its threads), or of its main thread only with
 * `mainThread`: a Node server's JavaScript runs there, so its time per request bounds the requests per second
 * whatever the other threads (sqlite's, the GC's) do.
 */
export function cpuMs(pid: number | undefined, mainThread = false): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis. utime, stime: fields 14, 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU ms per request between two `cpuMs` readings, to two decimals ('' when unknown). */
export function cpuPerRequest(before: number | undefined, after: number | undefined, requests: number): number | '' {
  if (before === undefined || after === undefined || requests === 0) return '';
  return +((after - before) / requests).toFixed(2);
}
