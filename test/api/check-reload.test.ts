import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredInstrument } from '../../src/domain/index.ts';
import { DEMO_LIST, instrument, startApiOnFakes, TOKENS, type ApiOnFakes } from '../helpers/api-on-fakes.ts';
import { waitFor, within } from '../helpers/wait.ts';

/**
 * A reload of the check index reads the new list a page at a time: while it is under way, checks
 * answer from the old list, all of it, and from the new one only once it is whole. A reload store
 * that stops halfway through the new list (until the test lets it go on) shows it.
 */
describe('reloading the check index', () => {
  let p: ApiOnFakes;
  beforeEach(async () => {
    p = await startApiOnFakes();
    await p.applyList(); // list version 1: AAPL full, MSFT buy only, NVDA full, TSLA sell only
  });
  afterEach(() => p.stop());

  /** From now on every read of the active list stops after handing over its first half, until `resume`. */
  function pauseReadsHalfway() {
    let reachedHalfway!: () => void;
    const halfway = new Promise<void>((resolve) => (reachedHalfway = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const instruments = p.stores.instruments;
    const read = instruments.readActiveList.bind(instruments);
    instruments.readActiveList = (onPage, options) =>
      read(async (rows: StoredInstrument[]) => {
        const half = Math.ceil(rows.length / 2);
        await onPage(rows.slice(0, half));
        reachedHalfway();
        await resumed;
        await onPage(rows.slice(half));
      }, options);
    return { halfway, resume };
  }

  const NEXT_LIST = [
    // AAPL leaves, MSFT becomes full, IBM joins (its row is read last).
    instrument('MSFT', 'US5949181045', 'Microsoft Corp.', 'full', 'Underwriting mandate'),
    ...DEMO_LIST.slice(2),
    instrument('IBM', 'US4592001014', 'IBM Corp.', 'full', 'Advisory mandate'),
  ];

  const check = async (query: string) => {
    const answer = (await p.get(`/v1/check?${query}`, TOKENS.read)).body;
    return { restricted: answer.restricted, list_version: answer.list_version };
  };
  const batch = async () => {
    const answer = await p.post(
      '/v1/check',
      { items: [{ ticker: 'AAPL' }, { ticker: 'MSFT', side: 'sell' }, { isin: 'US4592001014' }] },
      TOKENS.read,
    );
    return answer.body.results.map((r: { restricted: boolean; list_version: number }) => [
      r.restricted,
      r.list_version,
    ]);
  };

  it('answers from the old list until the new one is loaded whole, then from the new one only', async () => {
    const reads = pauseReadsHalfway();
    const applying = p.applyList(NEXT_LIST); // applies list version 2, then waits for the reload
    await within('the reload to reach halfway through the new list', reads.halfway);

    // Half of list version 2 is read (MSFT full, NVDA); every answer is still list version 1's.
    expect(await check('ticker=AAPL')).toEqual({ restricted: true, list_version: 1 });
    expect(await check('ticker=MSFT&side=sell')).toEqual({ restricted: false, list_version: 1 });
    expect(await check('isin=US4592001014')).toEqual({ restricted: false, list_version: 1 });
    expect(await batch()).toEqual([
      [true, 1],
      [false, 1],
      [false, 1],
    ]);
    expect((await p.get('/readyz', null)).body).toMatchObject({ list_version: 1, instrument_count: 4 });

    reads.resume();
    await within('the reload', applying);
    expect(await check('ticker=AAPL')).toEqual({ restricted: false, list_version: 2 });
    expect(await check('ticker=MSFT&side=sell')).toEqual({ restricted: true, list_version: 2 });
    expect(await check('isin=US4592001014')).toEqual({ restricted: true, list_version: 2 });
    expect(await batch()).toEqual([
      [false, 2],
      [true, 2],
      [true, 2],
    ]);
    expect((await p.get('/readyz', null)).body).toMatchObject({ list_version: 2, instrument_count: 4 });
  });

  it('reads again after a reload when another apply committed while it was under way', async () => {
    const reads = pauseReadsHalfway();
    const second = p.applyList(NEXT_LIST);
    await within('the reload of list version 2 to reach halfway', reads.halfway);
    // List version 3 commits while version 2 is being read: the read under way cannot see it.
    const third = p.applyList([...NEXT_LIST, instrument('ORCL', null, 'Oracle Corp.', 'full', 'Advisory')]);
    await waitFor('list version 3 to be applied', async () =>
      (await p.stores.runs.currentListVersion()) === 3 ? true : undefined,
    );
    expect(await check('ticker=ORCL')).toEqual({ restricted: false, list_version: 1 });

    reads.resume();
    await within('the reloads', Promise.all([second, third]));
    expect(await check('ticker=ORCL')).toEqual({ restricted: true, list_version: 3 });
    expect(await check('ticker=AAPL')).toEqual({ restricted: false, list_version: 3 });
  });
});
