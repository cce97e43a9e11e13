import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import type { CheckItem } from '../domain/index.ts';
import { JSON_CONTENT_TYPE, type RouteDeps } from './route.ts';
import { checkItemOf, isRefusal } from './schemas.ts';

/**
 * GET /v1/check, the trading service's request before every trade, answered in front of the
 * generic route machinery: the route table declares this as the route's `fast` lane (routes.ts),
 * and app.ts runs it before any middleware. It answers only a request it can tell the generic route
 * would answer 200, and then with the same bytes, status and headers:
 *
 * - GET, no body, not conditional (no If-None-Match / If-Modified-Since);
 * - a bearer token the auth table knows (or no tokens configured);
 * - a query of `ticker`, `isin` and `side` only, each at most once, in plain URL characters,
 *   decoded as the `simple` query parser decodes them, and accepted by the one function the
 *   query schema judges a check with (checkItemOf);
 * - a list loaded.
 *
 * Everything else (no token or a bad one, a session cookie, `at=`, anything the schema refuses,
 * no list yet, HEAD) is left untouched to the generic route, which answers it, errors and all, as
 * it always has.
 */
export function answerCheckAtOnce(req: IncomingMessage, res: ServerResponse, deps: RouteDeps): boolean {
  const { headers } = req;
  if (
    req.method !== 'GET' ||
    headers['content-length'] !== undefined ||
    headers['transfer-encoding'] !== undefined ||
    headers['if-none-match'] !== undefined ||
    headers['if-modified-since'] !== undefined
  )
    return false;
  if (!deps.auth.open && deps.auth.principalOfHeader(headers.authorization) === null) return false;
  const url = req.url ?? '';
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return false;
  const item = readCheckQuery(url.slice(queryAt + 1));
  if (item === null) return false;

  const started = performance.now();
  const answer = deps.views.checkAnswers.bytes(item);
  if (answer === null) return false;
  deps.metrics?.recordCheck(
    answer.restricted ? 'restricted' : 'not_restricted',
    (performance.now() - started) / 1000,
  );
  // As res.json writes them, in its order, behind the request id app.ts gives every request.
  const id = deps.requestId?.(req);
  res.writeHead(
    200,
    id === undefined
      ? ['Content-Type', JSON_CONTENT_TYPE, 'Content-Length', answer.body.length]
      : ['x-request-id', id, 'Content-Type', JSON_CONTENT_TYPE, 'Content-Length', answer.body.length],
  );
  res.end(answer.body);
  return true;
}

/** Characters a query may hold here; others (`#`, spaces, `[`, …) change how Express reads it. */
const PLAIN_QUERY = /^[\w.~%+=&-]+$/;

/**
 * The check a query string asks for, read by the parser Express's `simple` query parser is
 * (querystring.parse) and then judged as the query schema judges it; null for anything the fast
 * lane leaves to the route: another key, a key given twice, a `side` other than `buy` or `sell`.
 */
export function readCheckQuery(query: string): CheckItem | null {
  if (!PLAIN_QUERY.test(query)) return null;
  const { ticker, isin, side, ...others } = parseQueryString(query);
  if (Object.keys(others).length > 0 || Array.isArray(ticker) || Array.isArray(isin)) return null;
  // The schema's enum, before any normalisation.
  if (side !== undefined && side !== 'buy' && side !== 'sell') return null;
  const judged = checkItemOf({ ticker, isin, side });
  return isRefusal(judged) ? null : judged;
}
