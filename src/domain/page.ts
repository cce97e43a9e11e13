/** A list page at one version, as a run records it (no body). */
export interface PageVersionRef {
  id: string;
  title: string;
  version: number;
  url: string | null;
}

/** What a version check returns: enough to decide whether the body must be downloaded again. */
export interface PageVersion {
  id: string;
  title: string;
  version: number;
}

export const PAGE_FORMATS = ['storage', 'mock-json'] as const;
export type PageFormat = (typeof PAGE_FORMATS)[number];

/** A downloaded page as a run keeps it in Postgres (the claim check), body included. */
export interface StoredPage extends PageVersionRef {
  /** Who saved this version, as Confluence names them. */
  editedBy: string | null;
  /** When this version was saved (ISO 8601). */
  editedAt: string | null;
  format: PageFormat;
  body: string;
}

/** Version, editor and save time of a page, for the change log. */
export interface PageEditor {
  version: number;
  editedBy: string | null;
  /** When that version was saved in Confluence (ISO 8601). */
  editedAt: string | null;
}

/**
 * A page's own statement of how many instruments it lists (contract, "Page checksum"), and what
 * the parse found: a mismatch fails the sync rather than let a misread row lift a restriction.
 */
export interface PageChecksum {
  /** N, as Compliance wrote it. */
  expected: number;
  /** The distinct instruments the page yields on its own. */
  found: number;
  holds: boolean;
  /** The statement as written, e.g. "Instrument count: 42". */
  text: string;
  /** Where it stands, in words: "a paragraph", "a heading", "a cell of table 2", "the Page Properties". */
  where: string;
}

/** A page's checksum as a run read it. */
export interface PageChecksumReading extends PageChecksum {
  pageId: string;
}
