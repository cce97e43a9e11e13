import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../src/dev/embedded-postgres.ts', import.meta.url));

describe('embedded Postgres', () => {
  it("starts a real server, stops it, and leaves the host process's exit code alone", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rls-embedded-'));
    await chmod(dir, 0o755);
    const script = join(dir, 'host.ts');
    // A host that failed (like a test runner with failing tests) must still exit non-zero.
    await writeFile(
      script,
      `import pg from ${JSON.stringify(import.meta.resolve('pg'))};
       import { startEmbeddedPostgres } from ${JSON.stringify(MODULE)};
       const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(join(dir, 'data'))}, durable: false });
       const client = new pg.Client(server.url);
       await client.connect();
       const { rows } = await client.query('SHOW server_version');
       await client.end();
       await server.stop();
       console.log(rows[0].server_version);
       process.exitCode = 3;`,
    );
    const outcome = await promisify(execFile)(process.execPath, [script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    }).then(
      (done) => ({ code: 0, stdout: done.stdout }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        stdout: error.stdout + error.stderr,
      }),
    );
    await rm(dir, { recursive: true, force: true });
    expect(outcome.stdout).toMatch(/^\d+\.\d+/);
    expect(outcome.code).toBe(3);
  });
});
