/**
 * End-to-end sync benchmark on real parts: embedded Postgres, a Temporal dev server, the fake
 * Confluence serving a generated 50,000-row page, a worker. Figures: the first sync, an unchanged
 * re-sync and a one-row edit, each against the baseline measured in the same run — downloading
 * the page through confluence.js and parsing it, the irreducible part of any sync.
 */
import { loadConfig } from '../src/config.ts';
import { createConfluenceReader } from '../src/confluence/client.ts';
import { parseRestrictedList } from '../src/parser/index.ts';
import { benchServiceEnv, startBenchInfra, startBenchWorker } from './infra.ts';
import { generateListPage, ROWS } from './generate-page.ts';

export interface SyncBenchResult {
  rows: number;
  baselineMs: number;
  firstSyncMs: number;
  unchangedSyncMs: number;
  oneEditSyncMs: number;
}

export async function benchSync(rows = ROWS): Promise<SyncBenchResult> {
  const infra = await startBenchInfra('sync-bench');
  const { confluence } = infra;
  try {
    const pageId = '700001';
    const storage = generateListPage(rows);
    confluence.putPage({ id: pageId, title: 'Restricted Instruments List', storage });
    const config = loadConfig(benchServiceEnv(infra, pageId));

    // Baseline: download through confluence.js and parse, nothing else.
    const baselineStart = performance.now();
    const page = await createConfluenceReader({
      url: confluence.url,
      username: confluence.username,
      apiToken: confluence.apiToken,
    }).getPage(pageId);
    const parsed = parseRestrictedList({ pageId, storage: page.storage });
    const baselineMs = performance.now() - baselineStart;
    if (!parsed.ok || parsed.instruments.length !== rows)
      throw new Error('the bench page did not parse to its rows');

    const worker = await startBenchWorker(infra, config);
    const sync = () => worker.sync();
    try {
      const first = await sync();
      if (first.result.added !== rows)
        throw new Error(`first sync added ${first.result.added}, expected ${rows}`);
      const unchanged = await sync();
      if (unchanged.result.unchanged !== rows) throw new Error('the unchanged sync changed something');
      confluence.putPage({
        id: pageId,
        title: 'Restricted Instruments List',
        storage: storage.replace('Inside information', 'Inside information (updated)'),
      });
      const edited = await sync();
      if (edited.result.modified !== 1)
        throw new Error(`the one-row edit modified ${edited.result.modified}`);
      return {
        rows,
        baselineMs: Math.round(baselineMs),
        firstSyncMs: Math.round(first.ms),
        unchangedSyncMs: Math.round(unchanged.ms),
        oneEditSyncMs: Math.round(edited.ms),
      };
    } finally {
      await worker.stop();
    }
  } finally {
    await infra.stop();
  }
}
