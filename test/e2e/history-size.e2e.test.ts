import proto from '@temporalio/proto';
import { afterAll, describe, expect, it } from 'vitest';
import { generateListPage } from '../../bench/generate-page.ts';
import { DEMO_PAGE_ID } from '../../src/dev/demo-page.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';

/** Claim check: the run's Temporal history does not grow with the list. */
describe('Temporal history size', () => {
  const pipelines: Pipeline[] = [];
  afterAll(async () => {
    for (const p of pipelines) await p.stop();
  });

  async function historyBytesForFirstSync(rows: number): Promise<{ bytes: number; added: number }> {
    const p = await startPipeline();
    pipelines.push(p);
    p.confluence.putPage({
      id: DEMO_PAGE_ID,
      title: 'Restricted Instruments List',
      storage: generateListPage(rows),
    });
    const handle = await p.startSync();
    const result = await handle.result();
    const history = await handle.fetchHistory();
    return {
      bytes: proto.temporal.api.history.v1.History.encode(history).finish().length,
      added: result.added,
    };
  }

  it('is the same for 40 and for 50,000 instruments', async () => {
    const small = await historyBytesForFirstSync(40);
    const large = await historyBytesForFirstSync(50_000);
    expect(small.added).toBe(40);
    expect(large.added).toBe(50_000);
    // Only counts, ids and short summaries travel through Temporal: a few digits more, never the list.
    expect(Math.abs(large.bytes - small.bytes)).toBeLessThan(2_048);
    expect(large.bytes).toBeLessThan(20_000);
  }, 120_000);
});
