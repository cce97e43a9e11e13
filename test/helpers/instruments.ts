import type { ParsedInstrument } from '../../src/domain/index.ts';

/** An instrument with every field the contract names; unspecified fields are `null` / `full`. */
export function instrument(fields: Partial<ParsedInstrument>): ParsedInstrument {
  return {
    ticker: null,
    isin: null,
    name: null,
    restriction_type: 'full',
    reason: null,
    effective_from: null,
    expires_at: null,
    ...fields,
  };
}
