import { ConfigError, loadConfig, loadDotEnv } from './config.ts';
import { assertMigrated, openDatabase } from './db/database.ts';
import { createLogger } from './logger.ts';
import { startService, type Role } from './service.ts';

// `npm start` (worker + API), `npm run worker`, `npm run api`: configured only by the environment.
const roleArg = process.argv[2];
const roles: Role[] = roleArg === 'worker' ? ['worker'] : roleArg === 'api' ? ['api'] : ['worker', 'api'];
loadDotEnv();
const logger = createLogger();
let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`configuration error: ${error.message}`);
    process.exit(2);
  }
  throw error;
}

const database = await openDatabase(config.databaseUrl, { onProgress: (line) => logger.info(line) });
await assertMigrated(database.db);
const service = await startService({ config, database, roles, logger });

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: shutting down`);
  await service.stop();
  await database.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
