// The Host-header allow-list that keeps DNS-rebinding pages off a server bound to loopback.
import { isIP } from 'node:net';

/** Loopback names, always allowed; `localhost` also covers what browsers pin to it (`app.localhost`). */
const LOOPBACK_NAMES = ['localhost'];

/** The host name of a Host header (`name:port`, `[v6]:port`), lower-cased and without port or brackets. */
export function hostName(header: string): string | undefined {
  const match = header.trim().match(/^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::\d{1,5})?$/i);
  if (!match) return undefined;
  return (match[1] ?? match[2]).toLowerCase().replace(/\.$/, '');
}

/**
 * The names this server answers to (DNS-rebinding defence): a page on `x.evil` whose name an attacker
 * re-points at 127.0.0.1 sends `Host: x.evil`, and is refused. Loopback names and IP literals pass
 * (a browser sends an IP as Host only when it really connected to that IP: it cannot be rebound),
 * plus the names configured with `--allowed-host`.
 */
export class HostAllowList {
  private readonly names: ReadonlySet<string>;

  constructor(configured: readonly string[] = []) {
    // Given as a Host header would be (a port, a trailing dot, capitals), each is kept as its bare name.
    this.names = new Set([...LOOPBACK_NAMES, ...configured.map((name) => hostName(name) ?? name.trim().toLowerCase())]);
  }

  allows(header: string | undefined): boolean {
    const name = header === undefined ? undefined : hostName(header);
    if (name === undefined) return false;
    return isIP(name) !== 0 || this.names.has(name) || name.endsWith('.localhost');
  }

  /** What a refusal tells the client. */
  describe(header: string | undefined): string {
    const configured = [...this.names].filter((n) => !LOOPBACK_NAMES.includes(n));
    const extra = configured.length > 0 ? `, ${configured.join(', ')}` : '';
    return `host '${header ?? ''}' is not allowed: this server answers to localhost, IP addresses${extra} (add names with --allowed-host)`;
  }
}

/** Whether a bind address is reachable from this machine only. */
export function isLoopbackBind(host: string): boolean {
  const name = hostName(host) ?? host;
  if (name === 'localhost') return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1' || name === '0:0:0:0:0:0:0:1';
}
