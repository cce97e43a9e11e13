import type { PageVersion } from '../domain/index.ts';
import { ConfluenceNotFoundError } from './errors.ts';
import { parsePageRef, type PageRef } from './page-ref.ts';

export const DEFAULT_TIMEOUT_MS = 30_000;

export function cqlString(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * A link to a page id: most forms carry it; a `/display/KEY/Title` link is looked up by its exact
 * title in that space (CQL), on every flavour.
 */
export async function resolvePageRef(
  ref: string | PageRef,
  cqlSearch: (cql: string) => Promise<PageVersion[]>,
): Promise<string> {
  const parsed = typeof ref === 'string' ? parsePageRef(ref) : ref;
  if (parsed.kind === 'id') return parsed.id;
  const operation = `resolve page "${parsed.title}" in space ${parsed.spaceKey}`;
  const matches = await cqlSearch(
    `type = page and space = ${cqlString(parsed.spaceKey)} and title = ${cqlString(parsed.title)}`,
  );
  const exact = matches.filter((page) => page.title === parsed.title);
  const match = exact[0] ?? matches[0];
  if (match === undefined) {
    throw new ConfluenceNotFoundError(
      operation,
      'no page has that title in that space (or this user cannot see it); check RESTRICTED_INSTRUMENTS_PAGE_URL',
    );
  }
  return match.id;
}
