/**
 * Generates realistic list pages of any size (storage format as the Confluence editor writes it),
 * for the benchmarks and for tests that need a large list.
 */
import { isinCheckDigit } from '../src/parser/normalise.ts';

export const ROWS = 50_000;
const REASONS = [
  'Inside information',
  'Deal team wall-crossed',
  'Research blackout',
  'Pending M&amp;A advisory',
  'Underwriting syndicate',
];
const TYPES = ['Full', 'Buy only', 'Sell only', 'Full restriction', 'No trading'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A deterministic pseudo-random sequence, so every run parses the same page. */
function* numbers(seed: number): Generator<number, never> {
  let state = seed;
  for (;;) {
    state = (state * 1103515245 + 12345) % 2147483648;
    yield state;
  }
}

/** `length` capital letters spelling `value` in base 26 (a generated ticker or name). */
export function letters(value: number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++, value = Math.floor(value / 26))
    text += String.fromCharCode(65 + (value % 26));
  return text;
}

/** A valid US ISIN (check digit and all) for the `index`th generated instrument. */
export function isinFor(index: number): string {
  const body = `US${String(index).padStart(9, '0')}`;
  return body + String(isinCheckDigit(body));
}

function statusMacro(title: string, index: number): string {
  return `<ac:structured-macro ac:name="status" ac:schema-version="1" ac:macro-id="${(index * 7919).toString(16).padStart(8, '0')}-6c1e-4b7a-9a4e-2f1d8c3b5a70"><ac:parameter ac:name="title">${title}</ac:parameter><ac:parameter ac:name="colour">Red</ac:parameter></ac:structured-macro>`;
}

/** One list row as the Confluence editor stores it: cells in `<p>`, some lozenges and date macros. */
function row(index: number, random: Generator<number, never>): string {
  const r = random.next().value;
  const ticker = `${letters(index, 4)} US${r % 3 === 0 ? ' Equity' : ''}`;
  const type = TYPES[r % TYPES.length] ?? 'Full';
  const typeCell = r % 10 === 0 ? statusMacro(type, index) : type;
  const added =
    r % 5 === 0
      ? `<time datetime="2026-${String((r % 12) + 1).padStart(2, '0')}-01" />`
      : `${(r % 28) + 1} ${MONTHS[r % 12]} 2026`;
  const expiry = r % 3 === 0 ? `<p>${(r % 27) + 1}-${MONTHS[(r >> 3) % 12]}-2027</p>` : '';
  return (
    `<tr><td><p>${ticker}</p></td><td><p>${isinFor(index)}</p></td><td><p>${letters(r, 6)}&nbsp;Holdings plc</p></td>` +
    `<td><p>${REASONS[r % REASONS.length]}</p></td><td><p>${typeCell}</p></td><td><p>${added}</p></td><td>${expiry}</td></tr>`
  );
}

/** A realistic list page as Compliance's Confluence stores it, the same for every seed run. */
export function generateListPage(rows: number = ROWS): string {
  const random = numbers(42);
  const header =
    '<tr><th><p><strong>Ticker</strong></p></th><th><p><strong>ISIN</strong></p></th><th><p><strong>Security Name</strong></p></th>' +
    '<th><p><strong>Reason</strong></p></th><th><p><strong>Restriction Type</strong></p></th><th><p><strong>Date Added</strong></p></th>' +
    '<th><p><strong>Expiry</strong></p></th></tr>';
  const body: string[] = [];
  for (let i = 0; i < rows; i++) body.push(row(i, random));
  return (
    '<p>This page is the firm&rsquo;s restricted instruments list. Do not trade listed instruments without pre-clearance.</p>' +
    '<ac:structured-macro ac:name="info" ac:schema-version="1"><ac:rich-text-body><p>Maintained by Compliance.</p></ac:rich-text-body></ac:structured-macro>' +
    '<table data-layout="full-width" ac:local-id="9f2c1a7e-3b1d-4f3e-8a55-1c2b3d4e5f60"><colgroup><col style="width: 110.0px;" /><col style="width: 140.0px;" />' +
    '<col style="width: 220.0px;" /><col style="width: 220.0px;" /><col style="width: 120.0px;" /><col style="width: 110.0px;" /><col style="width: 110.0px;" /></colgroup>' +
    `<tbody>${header}${body.join('')}</tbody></table>`
  );
}
