import { describe, expect, it } from 'vitest';
import { detectChange, probeKey } from '../../src/sync/watch.ts';

const probe = (versions: [string, number][], missing: string[] = []) => ({
  versions: new Map(versions),
  missing,
});
const stored = (versions: [string, number][]) => new Map(versions);

describe('the edit watch: did the list pages change since the last successful sync?', () => {
  it('no: the same pages at the same versions', () => {
    expect(detectChange(probe([['1', 7]]), stored([['1', 7]]))).toBeNull();
  });

  it('yes: a new version, in words naming the page and both versions', () => {
    expect(detectChange(probe([['1', 8]]), stored([['1', 7]]))).toEqual({
      words: 'page 1 is at v8 (the list has v7)',
      key: '1:v8',
    });
  });

  it('yes: a page new to the list (CQL) and one that no longer matches', () => {
    const change = detectChange(
      probe([
        ['1', 7],
        ['2', 1],
      ]),
      stored([
        ['1', 7],
        ['3', 4],
      ]),
    );
    expect(change?.words).toBe('page 2 v1 is new to the list; page 3 no longer matches the CQL');
  });

  it('yes: a named page that vanished (the sync then fails as not found, never an empty list)', () => {
    expect(detectChange(probe([], ['1']), stored([['1', 7]]))?.words).toBe(
      'page 1 is gone or no longer visible',
    );
  });

  it('yes, before the first successful sync, whatever the pages are', () => {
    expect(detectChange(probe([['1', 1]]), null)?.words).toBe('no list has been synced yet');
  });

  it('names three changes and counts the rest', () => {
    const five = probe([1, 2, 3, 4, 5].map((n) => [String(n), 2] as [string, number]));
    expect(
      detectChange(five, stored([1, 2, 3, 4, 5].map((n) => [String(n), 1] as [string, number])))?.words,
    ).toBe(
      'page 1 is at v2 (the list has v1); page 2 is at v2 (the list has v1); page 3 is at v2 (the list has v1) and 2 more',
    );
  });

  it('keys a probed state the same way whatever the order, and apart from any other state', () => {
    const a = probeKey(
      probe([
        ['2', 1],
        ['1', 3],
      ]),
    );
    expect(a).toBe(
      probeKey(
        probe([
          ['1', 3],
          ['2', 1],
        ]),
      ),
    );
    expect(a).not.toBe(
      probeKey(
        probe([
          ['1', 3],
          ['2', 2],
        ]),
      ),
    );
    expect(probeKey(probe([], ['1']))).not.toBe(probeKey(probe([['1', 1]])));
  });
});
