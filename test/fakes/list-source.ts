import type { StoredPage } from '../../src/domain/index.ts';
import type { FetchedPage, ListSource } from '../../src/sync/sources.ts';

/**
 * A list source whose pages a test sets, with the real source's change detection: a page whose
 * version the last successful sync stored comes back as unchanged (its body not downloaded).
 */
export interface FakeListSource extends ListSource {
  /** Saves a new version of the page (version counted up), as an edit in Confluence would. */
  put(page: { id: string; title?: string; storage: string; editedBy?: string }): StoredPage;
  remove(id: string): void;
  /** The next fetch or probe throws this (e.g. a ConfluenceAuthError), once. */
  failNext(error: Error): void;
  /** How many page bodies were downloaded, in total. */
  readonly downloads: number;
}

export function createFakeListSource(): FakeListSource {
  const pages = new Map<string, StoredPage>();
  const failures: Error[] = [];
  let downloads = 0;
  return {
    put({ id, title = 'Restricted Instruments List', storage, editedBy = 'Compliance Officer' }) {
      const page: StoredPage = {
        id,
        title,
        version: (pages.get(id)?.version ?? 0) + 1,
        url: `https://example.atlassian.net/wiki/spaces/COMP/pages/${id}`,
        editedBy,
        editedAt: new Date().toISOString(),
        format: 'storage',
        body: storage,
      };
      pages.set(id, page);
      return page;
    },
    remove(id) {
      pages.delete(id);
    },
    failNext(error) {
      failures.push(error);
    },
    get downloads() {
      return downloads;
    },
    async probe() {
      const failure = failures.shift();
      if (failure) throw failure;
      return { versions: new Map([...pages.values()].map((page) => [page.id, page.version])), missing: [] };
    },
    async fetchPages(stored): Promise<FetchedPage[]> {
      const failure = failures.shift();
      if (failure) throw failure;
      return [...pages.values()].map((page) => {
        if (stored.get(page.id) === page.version)
          return { id: page.id, title: page.title, version: page.version, unchanged: true };
        downloads += 1;
        return { ...page };
      });
    },
  };
}
