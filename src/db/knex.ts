import { fileURLToPath } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

// DATE columns are calendar days (effective/expiry dates): keep them as 'YYYY-MM-DD' strings instead of
// letting pg turn them into local-midnight Date objects that shift with the process time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);
// COUNT(*) and BIGSERIAL ids fit in a double for any realistic list.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export const MIGRATIONS_DIRECTORY = fileURLToPath(new URL('../../migrations/', import.meta.url));

export function knexConfig(
  databaseUrl: string,
  pool: { min: number; max: number } = { min: 0, max: 10 },
): Knex.Config {
  return {
    client: 'pg',
    connection: { connectionString: databaseUrl, application_name: 'restricted-list-sync' },
    pool,
    acquireConnectionTimeout: 10_000,
    migrations: { directory: MIGRATIONS_DIRECTORY, loadExtensions: ['.ts'], tableName: 'knex_migrations' },
  };
}

export function createDb(databaseUrl: string, pool?: { min: number; max: number }): Knex {
  return knexFactory(knexConfig(databaseUrl, pool));
}

export async function migrateToLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}
