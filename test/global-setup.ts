import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/dev/embedded-postgres.ts';
import { startTemporalDevServer } from '../src/dev/temporal-dev-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    /** The dev server's Web UI, for the browser test of what operators see. */
    temporalUiUrl: string;
    workflowBundlePath: string;
  }
}

const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };

/** Starts the real infrastructure once per test run; each test file makes its own database and task queue. */
export default async function setup(project: TestProject) {
  const log = (line: string) => console.log(`[global-setup] ${line}`);
  const scratch = await mkdtemp(join(tmpdir(), 'rls-test-'));
  await chmod(scratch, 0o755); // as root, Postgres runs as the postgres user, which must reach its data directory
  const started = await Promise.allSettled([
    startEmbeddedPostgres({ dataDir: join(scratch, 'postgres'), durable: false, onProgress: log }),
    startTemporalDevServer({ ui: true, onProgress: log }),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger }),
  ]);
  const [postgres, temporal, bundle] = started;
  if (postgres.status === 'rejected' || temporal.status === 'rejected' || bundle.status === 'rejected') {
    // Stop whatever did start, so a failed setup leaves no server behind.
    if (postgres.status === 'fulfilled') await postgres.value.stop();
    if (temporal.status === 'fulfilled') await temporal.value.stop();
    await rm(scratch, { recursive: true, force: true });
    throw started.find((result) => result.status === 'rejected')!.reason;
  }
  const workflowBundlePath = join(scratch, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.value.code);
  project.provide('databaseUrl', postgres.value.url);
  project.provide('temporalAddress', temporal.value.address);
  project.provide('temporalUiUrl', temporal.value.uiUrl!);
  project.provide('workflowBundlePath', workflowBundlePath);

  return async () => {
    await Promise.allSettled([temporal.value.stop(), postgres.value.stop()]);
    await rm(scratch, { recursive: true, force: true });
  };
}
