import { describe, expect, it } from 'vitest';
import type { StoredPage } from '../../src/domain/index.ts';
import { readList } from '../../src/sync/read-list.ts';

const page = (id: string, version: number, body: string): StoredPage => ({
  id,
  title: `List ${id}`,
  version,
  url: null,
  editedBy: 'Compliance Officer',
  editedAt: null,
  format: 'storage',
  body,
});
const table = (tickers: string[]) =>
  `<table><tbody><tr><th>Ticker</th></tr>${tickers.map((t) => `<tr><td>${t}</td></tr>`).join('')}</tbody></table>`;

describe('reading the list from its pages', () => {
  it('checks each page against its own count, and keeps every count with the run', () => {
    const result = readList([
      page('1', 3, `<p>Instrument count: 2</p>${table(['AAPL', 'MSFT'])}`),
      page('2', 1, table(['AAPL', 'IBM'])),
      page('3', 7, `<p>Total instruments: 1</p>${table(['NVDA'])}`),
    ]);
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.instruments.map((i) => i.ticker)).toEqual(['AAPL', 'IBM', 'MSFT', 'NVDA']);
    expect(result.checksums).toEqual([
      { pageId: '1', expected: 2, found: 2, holds: true, text: 'Instrument count: 2', where: 'a paragraph' },
      { pageId: '3', expected: 1, found: 1, holds: true, text: 'Total instruments: 1', where: 'a paragraph' },
    ]);
  });

  it('fails as ChecksumMismatch when a page reads otherwise than it says, naming the page, N and what was found', () => {
    const result = readList([
      page('1', 3, `<p>Instrument count: 3</p>${table(['AAPL', 'MSFT'])}`),
      page('2', 5, `<p>Expected count = 1</p>${table(['NVDA', 'TSLA'])}`),
    ]);
    expect(result).toMatchObject({
      ok: false,
      code: 'ChecksumMismatch',
      message:
        'page 1 "List 1" v3 says it lists 3 instruments ("Instrument count: 3", in a paragraph) but 2 were read from it; ' +
        'page 2 "List 2" v5 says it lists 1 instrument ("Expected count = 1", in a paragraph) but 2 were read from it; nothing applied',
    });
    // The list that would have been applied is kept for the preview, never for the sync.
    expect(!result.ok && result.instruments?.map((i) => i.ticker)).toEqual(['AAPL', 'MSFT', 'NVDA', 'TSLA']);
  });
});
