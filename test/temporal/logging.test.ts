import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The SDK's runtime is a per-process singleton (and the test worker has one already), so the
// check runs in a fresh Node process, as a service or a bench would start.
const SCRIPT = `
import { Runtime } from '@temporalio/worker';
import { createLogger } from './src/logger.ts';
import { installTemporalLogging } from './src/temporal/logging.ts';
installTemporalLogging(createLogger({ level: 'error' }));
const runtime = Runtime.instance();
installTemporalLogging(createLogger({ level: 'debug' }));
console.log(Runtime.instance() === runtime ? 'same runtime' : 'another runtime');
`;

describe('Temporal logging', () => {
  it('installs the SDK runtime once per process: a second service in the same process still starts', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', SCRIPT], {
      cwd: new URL('../..', import.meta.url).pathname,
    });
    expect(stdout.trim()).toBe('same runtime');
  });
});
