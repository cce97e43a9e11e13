/**
 * What a configured page reference points at, read without any network call.
 * Links Compliance pastes come in several shapes (contract, RESTRICTED_INSTRUMENTS_PAGE_URL).
 */
export type PageRef = { kind: 'id'; id: string } | { kind: 'title'; spaceKey: string; title: string };

export class PageRefError extends Error {
  constructor(ref: string, why: string) {
    super(`cannot find a page id in "${ref}": ${why}`);
    this.name = 'PageRefError';
  }
}

/**
 * Confluence tiny links (`/wiki/x/CODE`) encode the page id: little-endian bytes, base64 with
 * `-`/`_` for `/`/`+`, trailing zero bytes and padding removed.
 */
export function decodeTinyLinkCode(code: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,11}$/.test(code)) return null;
  const base64 = code.replaceAll('-', '/').replaceAll('_', '+').padEnd(11, 'A') + '=';
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== 8) return null;
  const id = bytes.readBigUInt64LE(0);
  return id > 0n ? id.toString() : null;
}

/** `123456` → `BA...`: the inverse of decodeTinyLinkCode, used by the fake Confluence. */
export function encodeTinyLinkCode(pageId: string): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt(pageId));
  return bytes
    .toString('base64')
    .replace(/=+$/, '')
    .replace(/A+$/, '')
    .replaceAll('/', '-')
    .replaceAll('+', '_');
}

export function parsePageRef(ref: string): PageRef {
  const trimmed = ref.trim();
  if (/^\d+$/.test(trimmed)) return { kind: 'id', id: trimmed };

  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new PageRefError(ref, 'it is neither a page id nor a URL');
  }
  const path = decodeURIComponent(url.pathname);

  const pageId = url.searchParams.get('pageId');
  if (/\/pages\/viewpage\.action$/.test(path)) {
    if (pageId !== null && /^\d+$/.test(pageId)) return { kind: 'id', id: pageId };
    // Data Center also links a page by space and title (URLSearchParams has decoded `+` already).
    const spaceKey = url.searchParams.get('spaceKey');
    const title = url.searchParams.get('title');
    if (pageId === null && spaceKey && title) return { kind: 'title', spaceKey, title };
    throw new PageRefError(
      ref,
      'viewpage.action link without a numeric pageId (or spaceKey and title) parameter',
    );
  }

  const spacesPage = /\/spaces\/[^/]+\/pages\/(?:edit-v2\/)?(\d+)(?:\/|$)/.exec(path);
  if (spacesPage?.[1] !== undefined) return { kind: 'id', id: spacesPage[1] };

  const tiny = /\/x\/([A-Za-z0-9_-]+)\/?$/.exec(path);
  if (tiny?.[1] !== undefined) {
    const id = decodeTinyLinkCode(tiny[1]);
    if (id !== null) return { kind: 'id', id };
    throw new PageRefError(ref, 'the tiny link code is not valid');
  }

  const display = /\/display\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
  if (display?.[1] !== undefined && display[2] !== undefined) {
    const decode = (s: string) => decodeURIComponent(s.replaceAll('+', ' '));
    return { kind: 'title', spaceKey: decode(display[1]), title: decode(display[2]) };
  }

  throw new PageRefError(
    ref,
    'expected …/wiki/spaces/KEY/pages/ID/Title, …/pages/viewpage.action?pageId=ID, …/wiki/x/CODE, …/display/KEY/Title or a bare page id (on Data Center without /wiki)',
  );
}
