import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { SCOPES, type Scope } from '../server/auth/scopes';
import type { TokenStore } from '../server/auth/token-store';

const dataOption = () => new Option('--data <dir>', 'data folder of the server (its sqlite database)').default('./data');

/** Opens the data dir's token table (a running server sees changes on its next request), runs `fn`, closes. */
async function withTokens<T>(dataDir: string, fn: (tokens: TokenStore) => Promise<T>): Promise<T> {
  // sqlite and the server's modules load only for `token` commands.
  const [{ TokenStore }, { Database }, { migrate }, { databasePath }, { explainDataDirError }] = await Promise.all([
    import('../server/auth/token-store'),
    import('../server/db'),
    import('../server/migrations'),
    import('../server/start'),
    import('../server/start-errors'),
  ]);
  const file = databasePath(dataDir);
  const db = await mkdir(resolve(dataDir), { recursive: true })
    .then(() => Database.open(file))
    .catch((err) => {
      throw explainDataDirError(err, resolve(dataDir), file);
    });
  try {
    await migrate(db);
    return await fn(new TokenStore(db));
  } finally {
    await db.close();
  }
}

const when = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));

export function registerToken(program: Command): void {
  const token = program.command('token').description('API tokens: required off the loopback, and on it with `serve --auth`');

  token
    .command('create')
    .description('create a token and print it (once: only its hash is kept)')
    .addOption(new Option('--scope <scope>', 'read: see; run: also save and run; admin: also set triggers').choices(SCOPES).default('run'))
    .option('--name <name>', 'what the token is for, shown by `token list`', 'token')
    .addOption(dataOption())
    .action(async (options: { scope: Scope; name: string; data: string }) => {
      const created = await withTokens(options.data, (tokens) => tokens.create({ scope: options.scope, name: options.name }));
      // The token alone on stdout, for scripts; the note on stderr.
      console.log(created.token);
      console.error(`created token ${created.id} '${created.name}' with the ${created.scope} scope; it is not shown again`);
    });

  token
    .command('list')
    .description('list tokens (never the tokens themselves)')
    .option('--json', 'print JSON')
    .addOption(dataOption())
    .action(async (options: { json?: boolean; data: string }) => {
      const list = await withTokens(options.data, (tokens) => tokens.list());
      if (options.json) {
        console.log(JSON.stringify(list, null, 2));
        return;
      }
      if (list.length === 0) console.log('no tokens');
      for (const t of list) console.log([t.id, t.scope.padEnd(5), `created ${when(t.createdAt)}`, `last used ${when(t.lastUsedAt)}`, t.name].join('  '));
    });

  token
    .command('revoke <id>')
    .description('delete a token by its id (from `token list`); a running server refuses it from its next request on')
    .addOption(dataOption())
    .action(async (id: string, options: { data: string }) => {
      if (!(await withTokens(options.data, (tokens) => tokens.revoke(id)))) throw new Error(`no token '${id}' (see \`picflow token list\`)`);
      console.log(`revoked token ${id}`);
    });
}
