import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { createDb, migrateToLatest } from './knex.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Database {
  db: Knex;
  url: string;
  /** True when this process started an embedded Postgres (development). */
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * DATABASE_URL when set; otherwise an embedded Postgres in this checkout's data directory,
 * migrated to the latest schema (production runs `npm run migrate` as its own step).
 */
export async function openDatabase(
  databaseUrl: string | null,
  options: { onProgress?: (line: string) => void; pool?: { min: number; max: number } } = {},
): Promise<Database> {
  if (databaseUrl !== null) {
    const db = createDb(databaseUrl, options.pool);
    return { db, url: databaseUrl, embedded: false, close: () => db.destroy() };
  }
  // Development tooling, loaded only when it is used (production always has DATABASE_URL).
  const { defaultDataDir, startEmbeddedPostgres } = await import('../dev/embedded-postgres.ts');
  const server = await startEmbeddedPostgres({
    dataDir: defaultDataDir(PROJECT_ROOT),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const db = createDb(server.url, options.pool);
  const applied = await migrateToLatest(db);
  if (applied.length > 0) options.onProgress?.(`postgres: applied migrations ${applied.join(', ')}`);
  return {
    db,
    url: server.url,
    embedded: true,
    close: async () => {
      await db.destroy();
      await server.stop();
    },
  };
}

/** Production refuses to start on a schema that `npm run migrate` has not brought up to date. */
export async function assertMigrated(db: Knex): Promise<void> {
  const [, pending] = (await db.migrate.list()) as [unknown[], unknown[]];
  if (pending.length > 0) {
    throw new Error(
      `the database schema is ${pending.length} migration(s) behind: run \`npm run migrate\` first`,
    );
  }
}
