import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.ts';
import { startTemporalDevServer } from '../src/temporal/dev-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

/** Starts the real infrastructure once per test run; each test file makes its own database and task queue. */
export default async function setup(project: TestProject) {
  const log = (line: string) => console.log(`[global-setup] ${line}`);
  const scratch = await mkdtemp(join(tmpdir(), 'rls-test-'));
  await chmod(scratch, 0o755); // as root, Postgres runs as the postgres user, which must reach its data directory
  const [postgres, temporal, bundle] = await Promise.all([
    startEmbeddedPostgres({ dataDir: join(scratch, 'postgres'), durable: false, onProgress: log }),
    startTemporalDevServer({ ui: false, onProgress: log }),
    bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } }),
  ]);
  const workflowBundlePath = join(scratch, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.code);
  project.provide('databaseUrl', postgres.url);
  project.provide('temporalAddress', temporal.address);
  project.provide('workflowBundlePath', workflowBundlePath);

  return async () => {
    await Promise.allSettled([temporal.stop(), postgres.stop()]);
    await rm(scratch, { recursive: true, force: true });
  };
}
