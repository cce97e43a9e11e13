/**
 * The page checksum (contract, "Page checksum"): a paragraph, heading or table cell outside list
 * tables whose whole text is `Instrument count: N`, `Total instruments: N` or `Expected count: N`
 * (any case, `:` or `=`), or a row of a Page Properties macro's table with that label. Compliance
 * writes it so that a misread or accidentally deleted row can never pass unnoticed.
 */
import type { AnyNode, Document, Element } from 'domhandler';
import type { CheerioAPI } from 'cheerio/slim';
import { normaliseColumnName, normaliseText } from './normalise.ts';
import { cellLines, isElement, isStruckThrough } from './storage.ts';

/** A statement of the count found on the page. */
export interface ChecksumClaim {
  value: number;
  text: string;
  where: string;
}

export interface ChecksumReading {
  claims: ChecksumClaim[];
  /** Statements with the label but no whole number after it (e.g. "Instrument count: TBC"). */
  unreadable: { text: string; where: string }[];
}

const LABELS = new Set(['instrument count', 'total instruments', 'expected count']);
/** N: digits, optionally grouped in thousands ("1,250", "1 250"). */
const NUMBER = /^(?:\d{1,3}(?:[,\u00a0\u202f ']\d{3})+|\d+)$/;
const STATEMENT = /^(.+?)\s*[:=]\s*(.*)$/;
const HEADINGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const SKIPPED_MACROS = new Set(['code', 'noformat', 'html']);

function macroName(element: Element): string | null {
  if (element.name !== 'ac:structured-macro' && element.name !== 'ac:macro') return null;
  return (element.attribs['ac:name'] ?? '').trim().toLowerCase();
}

const textOf = (element: Element) => cellLines(element, normaliseText).join(' ');
const isLabel = (text: string) => LABELS.has(normaliseColumnName(text));
const numberOf = (text: string) => (NUMBER.test(text) ? Number(text.replace(/[^\d]/g, '')) : null);

/** A whole text that is a statement of the count: its value, or `unreadable` when the label has no number. */
function readStatement(text: string): number | 'unreadable' | null {
  const match = STATEMENT.exec(text);
  const value = match?.[2]?.trim() ?? '';
  // A label with nothing after it is a label (a Page Properties row's first cell), not a statement.
  if (match === null || value === '' || !isLabel(match[1]!)) return null;
  return numberOf(value) ?? 'unreadable';
}

/** The element's own rows, not those of tables nested in it. */
function rowsOf(table: Element): Element[] {
  const rows: Element[] = [];
  const stack: Element[] = [table];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const child of node.children) {
      if (!isElement(child)) continue;
      if (child.name === 'tr') rows.push(child);
      else if (child.name === 'thead' || child.name === 'tbody' || child.name === 'tfoot') stack.push(child);
    }
  }
  return rows;
}

/**
 * Every statement of the count on the page, outside the list tables `listTables` (and outside
 * code, noformat and html macros, and struck-through text, which are not the page's content).
 * `tableNumber` names a table as warnings do.
 */
export function readChecksums(
  $: CheerioAPI,
  listTables: ReadonlySet<Element>,
  tableNumber: (table: Element) => number | null,
): ChecksumReading {
  const reading: ChecksumReading = { claims: [], unreadable: [] };
  const note = (text: string, where: string) => {
    const value = readStatement(text);
    if (value === 'unreadable') reading.unreadable.push({ text, where });
    else if (value !== null) reading.claims.push({ value, text, where });
  };
  const root = $.root()[0] as Document;
  const stack: { node: AnyNode; table: Element | null; properties: boolean }[] = [];
  for (let i = root.children.length - 1; i >= 0; i--)
    stack.push({ node: root.children[i] as AnyNode, table: null, properties: false });
  while (stack.length > 0) {
    const { node, table, properties } = stack.pop()!;
    if (!isElement(node) || isStruckThrough(node)) continue;
    const macro = macroName(node);
    if ((macro !== null && SKIPPED_MACROS.has(macro)) || node.name === 'ac:plain-text-body') continue;
    if (node.name === 'table' && listTables.has(node)) continue;
    if (node.name === 'p' || HEADINGS.has(node.name)) {
      note(textOf(node), HEADINGS.has(node.name) ? 'a heading' : 'a paragraph');
      continue;
    }
    if (node.name === 'table' && properties) {
      // Page Properties: a row is "label | value".
      for (const row of rowsOf(node)) {
        const cells = row.children.filter(
          (cell): cell is Element => isElement(cell) && (cell.name === 'td' || cell.name === 'th'),
        );
        const label = textOf(cells[0]!).replace(/\s*[:=]\s*$/, '');
        if (cells.length < 2 || !isLabel(label)) continue;
        const value = textOf(cells[1]!);
        const text = `${label}: ${value}`;
        const n = numberOf(value);
        if (n === null) reading.unreadable.push({ text, where: 'the Page Properties' });
        else reading.claims.push({ value: n, text, where: 'the Page Properties' });
      }
    }
    if (node.name === 'td' || node.name === 'th') {
      const number = table === null ? null : tableNumber(table);
      note(textOf(node), number === null ? 'a table cell' : `a cell of table ${number}`);
      continue;
    }
    const inTable = node.name === 'table' ? node : table;
    const inProperties = properties || macro === 'details';
    for (let i = node.children.length - 1; i >= 0; i--)
      stack.push({ node: node.children[i] as AnyNode, table: inTable, properties: inProperties });
  }
  return reading;
}
