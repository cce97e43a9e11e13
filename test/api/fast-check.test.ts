import { request } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as fastCheck from '../../src/api/fast-check.ts';
import { batchCheckBodySchema, checkQuerySchema, readBatchBody } from '../../src/api/schemas.ts';
import { givenOnce, parseRequest } from '../../src/api/validation.ts';
import { DEMO_LIST, instrument, startApiOnFakes, TOKENS, type ApiOnFakes } from '../helpers/api-on-fakes.ts';

// Spied on, to tell which requests the fast lane answered and which it left to the generic route.
vi.mock('../../src/api/fast-check.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof fastCheck>();
  return { ...actual, answerCheckAtOnce: vi.fn(actual.answerCheckAtOnce) };
});
const lane = vi.mocked(fastCheck.answerCheckAtOnce);
const { readCheckQuery } = fastCheck;

/** What the route's schemas make of a query string (app.ts: the `simple` parser, then givenOnce and the schema). */
function generic(query: string): unknown {
  try {
    return parseRequest(givenOnce.pipe(checkQuerySchema), parseQueryString(query));
  } catch (error) {
    return { refused: (error as { code?: string }).code };
  }
}

const IDENTIFIERS = [
  'AAPL',
  'aapl',
  ' aapl us equity ',
  'MSFT',
  'BRK/B',
  'US0378331005',
  'us5949181045',
  'US0378331006',
  'ZZZZ',
  'ÉDF FP',
  'A\u200bB',
  '',
];
/** Checks as the trading service sends them: identifiers and a side, URL-encoded. */
const checks = fc
  .record(
    {
      ticker: fc.constantFrom(...IDENTIFIERS, 'BRK/B', 'ÉDF FP', 'NOPE'),
      isin: fc.constantFrom('US0378331005', 'US0378331013', 'US5949181045', 'FR0010242511', 'us5949181045'),
      side: fc.constantFrom('buy', 'sell'),
    },
    { requiredKeys: [] },
  )
  .map((check) => new URLSearchParams(check).toString());

/** Query strings as clients write them (URLSearchParams, encodeURIComponent, raw) and as nobody should. */
const queries = fc.oneof(
  { weight: 3, arbitrary: checks },
  fc
    .array(
      fc.tuple(
        fc.constantFrom('ticker', 'isin', 'side', 'at', 'x', 'Ticker', 'ticker[]'),
        fc.oneof(
          fc.constantFrom(...IDENTIFIERS, 'buy', 'sell', 'BUY', ' sell', 'short', '2026-01-01'),
          fc.string({ maxLength: 8 }),
        ),
        fc.constantFrom('search-params', 'component', 'raw'),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((pairs) =>
      pairs
        .map(([key, value, how]) =>
          how === 'search-params'
            ? new URLSearchParams([[key, value]]).toString()
            : how === 'component'
              ? `${key}=${encodeURIComponent(value)}`
              : `${key}=${value}`,
        )
        .join('&'),
    ),
  fc.stringMatching(/^[a-z=&%+0-9A-F]{0,24}$/),
  fc.string({ maxLength: 24 }),
);

describe('the fast lane of GET /v1/check reads a query', () => {
  it('as the route’s schemas read it, whenever it reads it at all', () => {
    fc.assert(
      fc.property(queries, (query) => {
        const item = readCheckQuery(query);
        if (item !== null) expect(generic(query)).toEqual({ at: null, item });
      }),
      { numRuns: 5_000 },
    );
  });

  it('for the queries the trading service sends', () => {
    for (const query of [
      'ticker=AAPL',
      'ticker=AAPL+US',
      'ticker=aapl%20us%20equity&side=buy',
      'isin=US0378331005&side=sell',
      'ticker=BRK%2FB&isin=US0378331005',
      'side=buy&isin=us0378331005',
    ])
      expect(readCheckQuery(query), query).toEqual((generic(query) as { item: unknown }).item);
    for (const query of [
      '',
      'ticker=AAPL&at=2026-01-01',
      'ticker=A&ticker=B',
      'ticker=A&side=BUY',
      'isin=XX',
    ])
      expect(readCheckQuery(query), query).toBeNull();
  });
});

describe('the batch body reader', () => {
  const value = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...IDENTIFIERS, 'buy', 'sell', ' SELL ', 'short') },
    fc.string({ maxLength: 6 }),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 1 }),
  );
  const item = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({ ticker: value, isin: value, side: value, x: value }, { requiredKeys: [] }),
    },
    value,
  );
  const check = fc.record(
    {
      ticker: fc.constantFrom('AAPL', ' aapl us equity ', 'BRK/B', 'ÉDF FP', 'A\u200bB'),
      isin: fc.constantFrom('US0378331005', 'us5949181045 ', 'FR0010242511'),
      side: fc.constantFrom('buy', 'sell', ' SELL ', 'Buy'),
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    { weight: 4, arbitrary: fc.record({ items: fc.array(check, { minLength: 1, maxLength: 5 }) }) },
    { weight: 4, arbitrary: fc.record({ items: fc.array(item, { minLength: 1, maxLength: 5 }) }) },
    fc.record({ items: fc.oneof(fc.array(item, { maxLength: 3 }), value), at: value }, { requiredKeys: [] }),
    value,
  );
  const schema = (raw: unknown) => {
    try {
      return parseRequest(batchCheckBodySchema, raw);
    } catch (error) {
      return { refused: (error as { code?: string }).code };
    }
  };

  it('reads what the schema reads, whenever it reads anything', () => {
    let read = 0;
    fc.assert(
      fc.property(body, (raw) => {
        const fast = readBatchBody(raw);
        if (fast === null) return;
        read++;
        expect(fast).toEqual(schema(raw));
      }),
      { numRuns: 5_000 },
    );
    expect(read).toBeGreaterThan(200);
  });

  it('reads a batch of 1,000 and no more', () => {
    const items = Array.from({ length: 1000 }, (_, i) =>
      i % 2 ? { ticker: 'aapl' } : { isin: 'US0378331005', side: 'buy' },
    );
    expect(readBatchBody({ items })).toEqual(schema({ items }));
    expect(readBatchBody({ items: [...items, { ticker: 'X' }] })).toBeNull();
  });
});

/**
 * The fast lane against the generic route, over HTTP, request for request: `/v1/check/?…` is the
 * same route to Express, but not on the lane's path, so it always goes the generic way.
 */
describe('GET /v1/check on the fast lane', () => {
  let p: ApiOnFakes;
  beforeAll(async () => {
    p = await startApiOnFakes();
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await p.applyList([
      ...DEMO_LIST,
      instrument('AAPL', 'US0378331013', 'Apple Inc. (other line)', 'sell_only', 'Research blackout'),
      instrument('BRK/B', null, 'Berkshire Hathaway "B"', 'buy_only', null, { effective_from: tomorrow }),
      instrument(null, 'US5949181045', null, 'full', 'Wall-crossed \u2014 deal team', { expires_at: today }),
      instrument('ÉDF FP', 'FR0010242511', 'Électricité de France', 'full', 'Inside information', {
        effective_from: today,
      }),
    ]);
  });
  afterAll(() => p.stop());

  const HEADERS: Record<string, Record<string, string>> = {
    read: { authorization: `Bearer ${TOKENS.read}` },
    admin: { authorization: `Bearer ${TOKENS.admin}` },
    'bad token': { authorization: 'Bearer not-a-token-at-all-1234' },
    'no token': {},
    'if-none-match *': { authorization: `Bearer ${TOKENS.read}`, 'if-none-match': '*' },
  };

  /** Status, headers as sent (but the date) and body of one request. */
  const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    new Promise<{ status: number; headers: string[]; body: string }>((resolve, reject) => {
      const outgoing = request(`${p.url}${path}`, { method, headers }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.once('end', () => {
          const raw = response.rawHeaders;
          const sent = raw.flatMap((name, i) =>
            i % 2 === 0 && name.toLowerCase() !== 'date' ? [name, raw[i + 1]!] : [],
          );
          resolve({ status: response.statusCode!, headers: sent, body: text });
        });
      });
      outgoing.once('error', reject);
      outgoing.end(body);
    });

  async function both(query: string, headers: Record<string, string>, body?: string) {
    const ask = (path: string) =>
      send(
        'GET',
        `${path}?${query}`,
        {
          ...headers,
          'x-request-id': 'trade-42',
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
        },
        body,
      );
    lane.mockClear();
    const onLane = await ask('/v1/check');
    const answered = lane.mock.results.some((result) => result.value === true);
    return { onLane, generic: await ask('/v1/check/'), answered };
  }

  it('answers what the generic route answers, byte for byte, headers and status too', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(queries, fc.constantFrom(...Object.keys(HEADERS)), async (query, who) => {
        const result = await both(query, HEADERS[who]!);
        expect(result.onLane).toEqual(result.generic);
        if (result.answered) answered++;
        // Answered only when the lane could tell: a known token, a query it reads, nothing conditional.
        // The query as it arrives: the client's URL parser percent-encodes some characters (`'` …).
        const arrived = new URL(`${p.url}/v1/check?${query}`).search.slice(1);
        expect(result.answered).toBe((who === 'read' || who === 'admin') && readCheckQuery(arrived) !== null);
      }),
      { numRuns: 400 },
    );
    expect(answered).toBeGreaterThan(40);
  });

  it('is taken by the trading service’s checks, restricted or not, and keeps the caller’s request id', async () => {
    for (const query of [
      'ticker=AAPL',
      'isin=US0378331013&side=buy',
      'ticker=aapl&isin=US0378331013',
      'ticker=BRK%2FB&side=buy',
      'isin=US5949181045',
      'ticker=%C3%89DF+FP',
      'ticker=NOPE',
    ]) {
      const result = await both(query, HEADERS.read!);
      expect(result.answered, query).toBe(true);
      expect(result.onLane).toEqual(result.generic);
      expect(result.onLane.status).toBe(200);
      expect(result.onLane.headers.slice(0, 4)).toEqual([
        'x-request-id',
        'trade-42',
        'Content-Type',
        'application/json; charset=utf-8',
      ]);
    }
  });

  it('leaves a conditional request, a body and a HEAD to the generic route', async () => {
    expect((await both('ticker=AAPL', HEADERS['if-none-match *']!)).answered).toBe(false);
    const withBody = await both('ticker=AAPL', HEADERS.read!, '{"not":');
    expect(withBody).toMatchObject({ answered: false, onLane: { status: 400 } });
    expect(withBody.onLane).toEqual(withBody.generic);
    lane.mockClear();
    const head = await send('HEAD', '/v1/check?ticker=AAPL', HEADERS.read!);
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(lane.mock.results.some((result) => result.value === true)).toBe(false);
  });

  it('answers a batch now with the bytes of its items’ single answers, in order', async () => {
    const items = fc.record(
      {
        ticker: fc.constantFrom('AAPL', 'aapl', 'BRK/B', 'ÉDF FP', 'NOPE', ' msft '),
        isin: fc.constantFrom('US0378331005', 'US0378331013', 'US5949181045', 'FR0010242511'),
        side: fc.constantFrom('buy', 'sell', ' SELL '),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(items, { minLength: 1, maxLength: 6 }), async (checks) => {
        const asked = checks.filter((check) => check.ticker !== undefined || check.isin !== undefined);
        if (asked.length === 0) return;
        const body = JSON.stringify({ items: asked });
        const batch = await send(
          'POST',
          '/v1/check',
          {
            ...HEADERS.read!,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          },
          body,
        );
        const singles = [];
        for (const check of asked) {
          const query = new URLSearchParams({
            ...check,
            ...(check.side ? { side: check.side.trim().toLowerCase() } : {}),
          });
          singles.push(JSON.parse((await send('GET', `/v1/check/?${query}`, HEADERS.read!)).body));
        }
        expect(batch.status).toBe(200);
        expect(batch.body).toBe(JSON.stringify({ results: singles }));
        expect(batch.headers.slice(2, 4)).toEqual(['Content-Type', 'application/json; charset=utf-8']);
      }),
      { numRuns: 100 },
    );
  });

  it('says the list is stale once it is, as the generic route does', async () => {
    p.clock.advance(p.config.staleAfterMinutes * 60_000 + 1_000);
    try {
      const result = await both('ticker=MSFT&side=buy', HEADERS.read!);
      expect(result.answered).toBe(true);
      expect(result.onLane).toEqual(result.generic);
      expect(JSON.parse(result.onLane.body)).toMatchObject({ restricted: true, stale: true });
    } finally {
      p.clock.advance(-(p.config.staleAfterMinutes * 60_000 + 1_000));
    }
  });
});
