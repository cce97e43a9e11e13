import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKFLOW_FILE = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** The rule ids ESLint reports for `code` placed in the workflow module. */
async function violations(code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: WORKFLOW_FILE });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

// The workflow sandbox must stay deterministic; the lint wall is what keeps I/O out of it.
describe('the lint wall around workflows/', () => {
  it.each([
    "import fs from 'fs';",
    "import { readFile } from 'node:fs/promises';",
    "import { createHash } from 'crypto';",
    "import knex from 'knex';",
    "import pg from 'pg';",
    "import * as cheerio from 'cheerio';",
    "import { createV2Client } from 'confluence.js';",
    "import express from 'express';",
    "import { Worker } from '@temporalio/worker';",
    "import { createDb } from '../src/db/knex.ts';",
    "import { createActivities } from '../activities/index.ts';",
  ])('refuses %s', async (line) => {
    expect(await violations(`${line}\nexport const x = 1;\n`)).not.toEqual([]);
  });

  it('allows the workflow API, the shared module and activities as types', async () => {
    const code = [
      "import { proxyActivities } from '@temporalio/workflow';",
      "import type { SyncActivities } from '../activities/index.ts';",
      "import { SCHEDULE_ID } from '../src/temporal/contract.ts';",
      'export const x = [proxyActivities, SCHEDULE_ID] as unknown as SyncActivities;',
    ].join('\n');
    expect(await violations(code)).toEqual([]);
  });
});
