import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiOnFakes, TOKENS, type ApiOnFakes } from '../helpers/api-on-fakes.ts';

const ISO = 'must be an ISO 8601 instant such as 2026-03-03T10:15:00Z';
const ENUM = (values: string) => `Invalid option: expected one of ${values}`;
const DIGITS = 'Invalid string: must match pattern /^\\d+$/';
const NOT_ISIN = (raw: string) =>
  `"${raw}" is not a valid ISIN (2 letters, 9 letters or digits, a check digit)`;

/**
 * Every refusal of a request's query or body, with the code and words a caller gets (the trading
 * service branches on the code; a person reads the message). A request with several problems is
 * told the same one it always was.
 */
describe('request validation', () => {
  let p: ApiOnFakes;
  beforeAll(async () => {
    p = await startApiOnFakes();
    await p.applyList();
  });
  afterAll(() => p.stop());

  it.each([
    // GET /v1/check
    ['/v1/check', 'missing_identifier', 'give ticker or isin (or both)'],
    ['/v1/check?ticker=', 'missing_identifier', 'give ticker or isin (or both)'],
    ['/v1/check?ticker=%20&isin=', 'missing_identifier', 'give ticker or isin (or both)'],
    ['/v1/check?ticker[]=A', 'missing_identifier', 'give ticker or isin (or both)'],
    ['/v1/check?ticker=AAPL&ticker=MSFT', 'invalid_query', 'ticker must be given once'],
    ['/v1/check?ticker=AAPL&x=1&x=2', 'invalid_query', 'x must be given once'],
    ['/v1/check?ticker=AAPL&side=short', 'invalid_side', `side: ${ENUM('"buy"|"sell"')}`],
    ['/v1/check?ticker=AAPL&side=BUY', 'invalid_side', `side: ${ENUM('"buy"|"sell"')}`],
    ['/v1/check?ticker=AAPL&side=', 'invalid_side', `side: ${ENUM('"buy"|"sell"')}`],
    ['/v1/check?isin=US0378331006', 'invalid_isin', NOT_ISIN('US0378331006')],
    ['/v1/check?isin=AAPL', 'invalid_isin', NOT_ISIN('AAPL')],
    ['/v1/check?ticker=AAPL&at=now', 'invalid_at', `at ${ISO}`],
    ['/v1/check?ticker=AAPL&at=2026-13-45T99:00:00Z', 'invalid_at', `at ${ISO}`],
    // GET /v1/restricted
    ['/v1/restricted?at=yesterday', 'invalid_at', `at ${ISO}`],
    ['/v1/restricted?at=1&at=2', 'invalid_query', 'at must be given once'],
    [
      '/v1/restricted?include_inactive=TRUE',
      'invalid_include_inactive',
      `include_inactive: ${ENUM('"true"|"false"')}`,
    ],
    // GET /v1/restricted/changes
    ['/v1/restricted/changes?since=soon', 'invalid_since', `since ${ISO}`],
    ['/v1/restricted/changes?limit=0', 'invalid_limit', 'limit must be a whole number from 1 to 1000'],
    ['/v1/restricted/changes?limit=1001', 'invalid_limit', 'limit must be a whole number from 1 to 1000'],
    ['/v1/restricted/changes?limit=lots', 'invalid_limit', `limit: ${DIGITS}`],
    ['/v1/restricted/changes?limit=1.5', 'invalid_limit', `limit: ${DIGITS}`],
    ['/v1/restricted/changes?limit=1&limit=2', 'invalid_query', 'limit must be given once'],
    // GET /v1/sync/runs
    ['/v1/sync/runs?limit=0', 'invalid_limit', 'limit must be a whole number from 1 to 200'],
    ['/v1/sync/runs?limit=201', 'invalid_limit', 'limit must be a whole number from 1 to 200'],
    ['/v1/sync/runs?limit=lots', 'invalid_limit', `limit: ${DIGITS}`],
  ])('GET %s → 400 %s', async (path, code, message) => {
    expect(await p.get(path, TOKENS.read)).toEqual({ status: 400, body: { error: { code, message } } });
  });

  it('refuses a bad wait flag on a trigger, after the admin check', async () => {
    expect(await p.post('/v1/sync?wait=maybe')).toEqual({
      status: 400,
      body: { error: { code: 'invalid_wait', message: `wait: ${ENUM('"true"|"false"')}` } },
    });
    expect(await p.post('/v1/sync?wait=true&wait=true')).toEqual({
      status: 400,
      body: { error: { code: 'invalid_query', message: 'wait must be given once' } },
    });
    expect((await p.post('/v1/sync?wait=maybe', undefined, TOKENS.read)).status).toBe(403);
    expect((await p.get('/v1/check?side=short', null)).status).toBe(401);
  });

  it.each([
    ['no body', undefined, 'invalid_items', 'items must be an array of 1 to 1000 checks'],
    ['an array', [], 'invalid_items', 'items must be an array of 1 to 1000 checks'],
    ['no items', {}, 'invalid_items', 'items must be an array of 1 to 1000 checks'],
    [
      'items not an array',
      { items: { ticker: 'AAPL' } },
      'invalid_items',
      'items must be an array of 1 to 1000 checks',
    ],
    ['no item', { items: [] }, 'invalid_items', 'items must be an array of 1 to 1000 checks'],
    [
      'an item not an object',
      { items: [{ ticker: 'AAPL' }, 'AAPL'] },
      'invalid_items',
      'items[1] must be an object',
    ],
    ['a null item', { items: [null] }, 'invalid_items', 'items[0] must be an object'],
    [
      'an item without identifier',
      { items: [{ side: 'buy' }] },
      'missing_identifier',
      'items[0].give ticker or isin (or both)',
    ],
    ['an array item', { items: [['AAPL']] }, 'missing_identifier', 'items[0].give ticker or isin (or both)'],
    [
      'a blank ticker',
      { items: [{ ticker: '  ' }] },
      'missing_identifier',
      'items[0].give ticker or isin (or both)',
    ],
    [
      'a ticker not a string',
      { items: [{ ticker: 5 }] },
      'invalid_query',
      'items[0].ticker must be given once',
    ],
    ['a null ticker', { items: [{ ticker: null }] }, 'invalid_query', 'items[0].ticker must be given once'],
    ['an isin not a string', { items: [{ isin: 5 }] }, 'invalid_query', 'items[0].isin must be given once'],
    [
      'a side not a string',
      { items: [{ ticker: 'A', side: 5 }] },
      'invalid_query',
      'items[0].side must be given once',
    ],
    [
      'a bad side',
      { items: [{ ticker: 'A', side: 'short' }] },
      'invalid_side',
      'items[0].side must be buy or sell',
    ],
    [
      'a bad ISIN',
      { items: [{ ticker: 'AAPL' }, { isin: 'bad' }] },
      'invalid_isin',
      `items[1].${NOT_ISIN('bad')}`,
    ],
    ['a bad at', { items: [{ ticker: 'AAPL' }], at: 'soon' }, 'invalid_at', `at ${ISO}`],
  ])('POST /v1/check with %s → 400 %s', async (_what, body, code, message) => {
    expect(await p.post('/v1/check', body, TOKENS.read)).toEqual({
      status: 400,
      body: { error: { code, message } },
    });
  });

  it.each([
    ['/v1/check?x=1&x=2&side=bad', 'invalid_query', 'x must be given once'],
    ['/v1/check?side=bad&ticker=a&ticker=b', 'invalid_query', 'ticker must be given once'],
    ['/v1/check?side=bad&at=bad', 'invalid_side', `side: ${ENUM('"buy"|"sell"')}`],
    ['/v1/check?at=bad&isin=XX', 'invalid_at', `at ${ISO}`],
    [
      '/v1/restricted?at=bad&include_inactive=yes',
      'invalid_include_inactive',
      `include_inactive: ${ENUM('"true"|"false"')}`,
    ],
    ['/v1/restricted/changes?since=soon&limit=lots', 'invalid_limit', `limit: ${DIGITS}`],
    ['/v1/restricted/changes?since=soon&limit=0', 'invalid_since', `since ${ISO}`],
  ])('GET %s, with several problems, is told the first it always was: %s', async (path, code, message) => {
    expect(await p.get(path, TOKENS.read)).toEqual({ status: 400, body: { error: { code, message } } });
  });

  it.each([
    [
      'items not an array, and a bad at',
      { items: 'x', at: 'bad' },
      'invalid_items',
      'items must be an array of 1 to 1000 checks',
    ],
    ['a bad item and a bad at', { items: [{ ticker: 5 }], at: 'bad' }, 'invalid_at', `at ${ISO}`],
    [
      'two bad items',
      { items: [{ ticker: 'AAPL' }, { ticker: 5 }, { isin: 'bad' }] },
      'invalid_query',
      'items[1].ticker must be given once',
    ],
    [
      'a bad ISIN and a bad side in one item',
      { items: [{ ticker: 'A', isin: 'bad', side: 'x' }] },
      'invalid_isin',
      `items[0].${NOT_ISIN('bad')}`,
    ],
    [
      '1,001 items, one bad',
      { items: [...Array.from({ length: 1000 }, () => ({ ticker: 'AAPL' })), { ticker: 5 }] },
      'invalid_items',
      'items must be an array of 1 to 1000 checks',
    ],
  ])('POST /v1/check with %s is told the first it always was', async (_what, body, code, message) => {
    expect(await p.post('/v1/check', body, TOKENS.read)).toEqual({
      status: 400,
      body: { error: { code, message } },
    });
  });

  it('normalises what it checks like the page: ticker rule 6, ISIN upper case, side in any case in a batch', async () => {
    const aapl = (await p.get('/v1/check?ticker=aapl%20us%20equity', TOKENS.read)).body;
    expect(aapl).toMatchObject({ restricted: false, matches: [] }); // AAPL US is not AAPL
    expect((await p.get('/v1/check?ticker=%20aapl%20', TOKENS.read)).body).toMatchObject({
      restricted: true,
    });
    expect((await p.get('/v1/check?isin=%20us0378331005%20', TOKENS.read)).body.matches).toEqual([
      expect.objectContaining({ ticker: 'AAPL', isin: 'US0378331005' }),
    ]);
    const batch = await p.post(
      '/v1/check',
      {
        items: [
          { ticker: 'msft', side: ' SELL ' },
          { ticker: 'msft', side: 'Buy' },
          { ticker: 'msft', side: '' },
          { isin: 'us88160r1014', side: 'sell' },
        ],
        at: 42, // not a string: answered as now, as it always was
      },
      TOKENS.read,
    );
    expect(batch.body.results.map((r: { restricted: boolean }) => r.restricted)).toEqual([
      false,
      true,
      true,
      true,
    ]);
  });

  it('answers a body that is not JSON, too large or of another type as it always did', async () => {
    const bad = await p.request('POST', '/v1/check', { token: null, raw: '{"items": [' });
    expect(bad.status).toBe(400); // before the token check: the body is read first
    expect(bad.json()).toEqual({
      error: { code: 'invalid_json', message: 'the request body is not valid JSON' },
    });
    const huge = await p.request('POST', '/v1/check', {
      token: TOKENS.read,
      body: { items: [{ ticker: 'A'.repeat(300_000) }] },
    });
    expect(huge.json()).toEqual({
      error: { code: 'body_too_large', message: 'the request body is too large' },
    });
    const text = await p.request('POST', '/v1/check', {
      token: TOKENS.read,
      raw: '{"items":[{"ticker":"AAPL"}]}',
      contentType: 'text/plain',
    });
    expect(text.json().error.code).toBe('invalid_items');
    const onTrigger = await p.request('POST', '/v1/sync', { raw: '{' });
    expect(onTrigger.json().error.code).toBe('invalid_json');
  });
});
