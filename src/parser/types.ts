/** The parser's input and output; the instrument and warning types are the domain's. */
import type { PageChecksum, ParsedInstrument, ParseWarning } from '../domain/index.ts';

export type { ParsedInstrument, ParseWarning, ParseWarningCode, RestrictionType } from '../domain/index.ts';

export interface PageSource {
  /** Used to label warnings. */
  pageId: string;
  title?: string;
  /** Confluence storage format (XHTML with ac:/ri: elements). */
  storage: string;
}

export type ParseResult =
  | {
      ok: true;
      instruments: ParsedInstrument[];
      warnings: ParseWarning[];
      /** Present when the page states how many instruments it lists. */
      checksum?: PageChecksum;
    }
  | { ok: false; error: { code: 'parse_error'; message: string }; warnings: ParseWarning[] };
