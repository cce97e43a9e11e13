// For the knex CLI and tools that expect a knexfile; the service itself runs `npm run migrate`.
import { loadDatabaseUrl, loadDotEnv } from './src/config.ts';
import { knexConfig } from './src/db/knex.ts';

loadDotEnv();
const databaseUrl = loadDatabaseUrl();
if (databaseUrl === null) throw new Error('DATABASE_URL: set it to run knex against a database');

export default knexConfig(databaseUrl);
