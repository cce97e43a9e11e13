import { ConfigError, loadDatabaseUrl, loadDotEnv } from '../config.ts';
import { openDatabase } from './database.ts';
import { migrateToLatest } from './knex.ts';

loadDotEnv();
try {
  const database = await openDatabase(loadDatabaseUrl(), { onProgress: (line) => console.log(line) });
  try {
    const applied = database.embedded ? [] : await migrateToLatest(database.db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'the database schema is up to date');
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(
    error instanceof ConfigError
      ? `configuration error: ${error.message}`
      : `migrate failed: ${(error as Error).message}`,
  );
  process.exitCode = 1;
}
