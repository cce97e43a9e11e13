/** Properties that must hold for every input, checked on generated inputs with fast-check. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as parser from '../../src/parser/index.ts';
import type { PageSource, ParseResult } from '../../src/parser/index.ts';
import { RESTRICTION_TYPES } from '../../src/domain/index.ts';

/** Text made of the characters the normalisers treat specially, mixed with any Unicode. */
const awkwardText = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.string({ unit: 'grapheme', maxLength: 4 }),
      fc.constantFrom(
        ' ',
        '\u00a0',
        '\u200b',
        '\u200e',
        '\ufeff',
        '\u0301',
        'e\u0301',
        'İ',
        'ß',
        'ǅ',
        '(',
        ')',
        '(s)',
        ' Equity',
        ' CORP',
        ' index',
        '\n',
        '\t',
        '-',
        '/',
      ),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

describe('normalisation is idempotent', () => {
  it.each([
    ['normaliseText', parser.normaliseText],
    ['normaliseColumnName', parser.normaliseColumnName],
    ['normaliseRestrictionValue', parser.normaliseRestrictionValue],
    ['normaliseTicker', parser.normaliseTicker],
    ['normaliseIsin', parser.normaliseIsin],
  ])('%s(%s(x)) = %s(x)', (_name, normalise) => {
    fc.assert(
      fc.property(awkwardText, (text) => {
        const once = normalise(text);
        expect(normalise(once)).toBe(once);
      }),
      { numRuns: 2000 },
    );
  });

  it('normalised column names hold only lower-case letters, digits and single spaces', () => {
    fc.assert(
      fc.property(awkwardText, (text) => {
        expect(parser.normaliseColumnName(text)).toMatch(/^(?:[\p{L}\p{Nd}]+(?: [\p{L}\p{Nd}]+)*)?$/u);
      }),
    );
  });

  it('a date, once parsed, parses to itself', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1000-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
        (date) => {
          const iso = date.toISOString().slice(0, 10);
          expect(parser.parseDate(iso)).toBe(iso);
        },
      ),
    );
  });
});

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const letter = fc.constantFrom(...LETTERS);
const alphanumeric = fc.constantFrom(...LETTERS, ...DIGITS);
const isinBody = fc
  .tuple(
    fc.array(letter, { minLength: 2, maxLength: 2 }),
    fc.array(alphanumeric, { minLength: 9, maxLength: 9 }),
  )
  .map(([country, code]) => country.join('') + code.join(''));
const validIsin = isinBody.map((body) => body + String(parser.isinCheckDigit(body)));

/**
 * ISO 6166 written independently of the parser's code: letters become their values 10–35,
 * and the check digit is the one making the Luhn sum of the digit string divisible by ten.
 */
function referenceIsValid(isin: string): boolean {
  if (!/^[A-Z]{2}[A-Z0-9]{9}[0-9]$/.test(isin)) return false;
  const digits = [...isin]
    .map((char) => (/[0-9]/.test(char) ? char : String(char.charCodeAt(0) - 55)))
    .join('');
  let sum = 0;
  [...digits].reverse().forEach((char, index) => {
    const doubled = Number(char) * (index % 2 === 1 ? 2 : 1);
    sum += Math.floor(doubled / 10) + (doubled % 10);
  });
  return sum % 10 === 0;
}

function replaceAt(text: string, index: number, char: string): string {
  return text.slice(0, index) + char + text.slice(index + 1);
}

describe('ISIN validation (ISO 6166)', () => {
  it('accepts every ISIN built with a correct check digit', () => {
    fc.assert(
      fc.property(validIsin, (isin) => {
        expect(parser.isValidIsin(isin)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects every single-digit substitution of a digit (the Luhn guarantee), the check digit included', () => {
    fc.assert(
      fc.property(validIsin, fc.nat(11), fc.constantFrom(...DIGITS), (isin, index, digit) => {
        fc.pre(DIGITS.includes(isin[index] as string) && isin[index] !== digit);
        expect(parser.isValidIsin(replaceAt(isin, index, digit))).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects every corruption that breaks the shape: a digit in the country code, a letter as check digit, a lower-case or other character', () => {
    fc.assert(
      fc.property(
        validIsin,
        fc.nat(11),
        fc.constantFrom(...DIGITS, ...LETTERS, 'a', 'z', ' ', '-', 'É', '0'),
        (isin, index, char) => {
          const breaksShape =
            (index < 2 && !LETTERS.includes(char)) ||
            (index === 11 && !DIGITS.includes(char)) ||
            !(LETTERS + DIGITS).includes(char);
          fc.pre(breaksShape);
          expect(parser.isValidIsin(replaceAt(isin, index, char))).toBe(false);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('judges every other single-character corruption exactly as ISO 6166 does', () => {
    fc.assert(
      fc.property(validIsin, fc.nat(11), alphanumeric, (isin, index, char) => {
        const corrupted = replaceAt(isin, index, char);
        expect(parser.isValidIsin(corrupted)).toBe(referenceIsValid(corrupted));
      }),
      { numRuns: 10000 },
    );
  });

  it('cannot catch every corruption involving a letter: the standard itself lets some through', () => {
    // A letter is two digits to the check, so US → ES keeps the Luhn sum: both are valid ISINs.
    expect(parser.isValidIsin('US0378331005')).toBe(true);
    expect(parser.isValidIsin('ES0378331005')).toBe(true);
    expect(referenceIsValid('ES0378331005')).toBe(true);
  });
});

/** Fragments of storage format, well-formed or not, to build arbitrary pages from. */
const markupFragment = fc.oneof(
  fc.constantFrom(
    '<table>',
    '</table>',
    '<tbody>',
    '</tbody>',
    '<thead>',
    '</thead>',
    '<tr>',
    '</tr>',
    '<th>',
    '</th>',
    '<td>',
    '</td>',
    '<td/>',
    '<th colspan="3">',
    '<td rowspan="0">',
    '<td colspan="99999" rowspan="99999">',
    '<td rowspan="-1" colspan="abc">',
    '<th>Ticker</th>',
    '<th>ISIN</th>',
    '<th>Type</th>',
    '<th>Expiry</th>',
    '<th>Action</th>',
    '<td>US0378331005</td>',
    '<td>aapl us equity, msft</td>',
    '<td>1 Mar 2026</td>',
    '<td><time datetime="2026-02-30"/></td>',
    '<p>',
    '</p>',
    '<br/>',
    '<s>',
    '</s>',
    '<span style="text-decoration: line-through">',
    '</span>',
    '<ac:structured-macro ac:name="expand">',
    '<ac:structured-macro ac:name="code">',
    '<ac:structured-macro ac:name="html">',
    '<ac:structured-macro ac:name="status"><ac:parameter ac:name="title">Buy only</ac:parameter></ac:structured-macro>',
    '</ac:structured-macro>',
    '<ac:rich-text-body>',
    '</ac:rich-text-body>',
    '<ac:plain-text-body><![CDATA[<table><tr><th>Ticker</th></tr><tr><td>X</td></tr></table>]]></ac:plain-text-body>',
    '<ac:link><ri:page ri:content-title="MSFT"/></ac:link>',
    '<ac:link>',
    '<![CDATA[',
    ']]>',
    '<!--',
    '-->',
    '&nbsp;',
    '&amp;',
    '&bogus;',
    '&#0;',
    '&#xD800;',
    '<',
    '>',
    '"',
    '<script>',
    '<?xml version="1.0"?>',
    '<!DOCTYPE html>',
  ),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const arbitraryMarkup = fc.array(markupFragment, { maxLength: 60 }).map((parts) => parts.join(''));

/** The result must be one of the two shapes of the contract, well-formed. */
function expectWellFormed(result: ParseResult): void {
  if (!result.ok) {
    expect(result.error.code).toBe('parse_error');
    expect(result.error.message).toEqual(expect.any(String));
    return;
  }
  for (const found of result.instruments) {
    expect(found.ticker !== null || found.isin !== null).toBe(true);
    expect(RESTRICTION_TYPES).toContain(found.restriction_type);
    for (const value of [
      found.ticker,
      found.isin,
      found.name,
      found.reason,
      found.effective_from,
      found.expires_at,
    ]) {
      expect(value).not.toBe('');
    }
    if (found.isin !== null) expect(parser.isValidIsin(found.isin)).toBe(true);
    for (const date of [found.effective_from, found.expires_at])
      if (date !== null) expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  }
  for (const warning of result.warnings) expect(warning.problem).toEqual(expect.any(String));
}

describe('the parser never throws', () => {
  it('on arbitrary or malformed markup', () => {
    fc.assert(
      fc.property(arbitraryMarkup, (storage) => {
        expectWellFormed(parser.parseRestrictedList({ pageId: 'fuzz', storage }));
      }),
      { numRuns: 3000 },
    );
  });

  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (storage) => {
        expectWellFormed(parser.parseRestrictedList({ pageId: 'fuzz', storage }));
      }),
      { numRuns: 1000 },
    );
  });

  it('on very deep nesting and huge spans', () => {
    // Deeper than any recursive walk survives; htmlparser2 itself slows down quadratically beyond this.
    const deep = `<table><tr><th>Ticker</th></tr><tr><td>${'<span>'.repeat(20_000)}MSFT</td></tr></table>`;
    expectWellFormed(parser.parseRestrictedList({ pageId: 'deep', storage: deep }));
    const nestedTables = `${'<table><tr><td>'.repeat(3_000)}x`;
    expectWellFormed(parser.parseRestrictedList({ pageId: 'nested', storage: nestedTables }));
    const spans = `<table><tr><th>Ticker</th></tr>${'<tr><td colspan="1000000" rowspan="1000000">A</td></tr>'.repeat(200)}</table>`;
    expectWellFormed(parser.parseRestrictedList({ pageId: 'spans', storage: spans }));
  });

  it('on input that is not a page at all', () => {
    for (const page of [
      null,
      undefined,
      42,
      {},
      { pageId: 'x' },
      { pageId: 'x', storage: 12 },
      { pageId: 'x', storage: null },
    ]) {
      const result = parser.parseRestrictedList(page as unknown as PageSource);
      expect(result.ok).toBe(false);
      expectWellFormed(result);
    }
  });
});
