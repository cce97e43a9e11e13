/**
 * Reading Confluence storage format: building the DOM, finding the tables (rule 1) and turning
 * a cell into the text Confluence shows (rule 4).
 *
 * The DOM is built once, in full, by `cheerio.load` in its htmlparser2 mode (`loadStorage`).
 * It is then read by walking the domhandler nodes directly, not through cheerio's selection
 * API: all the reading may cost 0.6 of the parse (bench/parse-bench.ts), and on a 50,000-row
 * page one selection over the DOM costs a fifth to a third of the parse, and wrapping each
 * cell in a cheerio object to read its text 0.4; cheerio's traversal also takes time in the
 * square of the nesting depth, which a pasted page can make arbitrarily deep. So one walk
 * finds the page's tables and hands each row over as it leaves it (`findTables`), and a
 * cell's text is read from its nodes (`cellLines`). Every walk is iterative, so no nesting
 * depth can overflow the stack.
 */
import type { AnyNode, Document, Element, ParentNode } from 'domhandler';
// cheerio's htmlparser2-only build: the same `load`, without parse5 and the fetch client that
// the default entry point loads (and that nothing here uses).
import { load, type CheerioAPI } from 'cheerio/slim';

/**
 * htmlparser2's options for storage format, given to cheerio as its `xml` option (which selects
 * htmlparser2 and is then applied over cheerio's own `xmlMode: true`). HTML mode is what decodes
 * HTML named entities (`&nbsp;`, `&Uuml;`); XML mode would leave them as literal text.
 * Self-closing tags and CDATA sections are storage-format XHTML, so both are recognised as such;
 * names are lower-cased, which leaves the `ac:`/`ri:` names unchanged.
 */
export const STORAGE_PARSER_OPTIONS = {
  xmlMode: false,
  decodeEntities: true,
  recognizeSelfClosing: true,
  recognizeCDATA: true,
  lowerCaseTags: true,
  lowerCaseAttributeNames: true,
} as const;

/** Storage format as a cheerio document (a fragment: no `<html>`/`<body>` is added). */
export function loadStorage(storage: string): CheerioAPI {
  return load(storage, { xml: STORAGE_PARSER_OPTIONS }, false);
}

export function isElement(node: AnyNode): node is Element {
  return node.type === 'tag' || node.type === 'script' || node.type === 'style';
}

function isParent(node: AnyNode): node is ParentNode {
  return 'children' in node;
}

export function elementChildren(node: ParentNode): Element[] {
  return node.children.filter(isElement);
}

function macroName(element: Element): string | null {
  if (element.name !== 'ac:structured-macro' && element.name !== 'ac:macro') return null;
  return (element.attribs['ac:name'] ?? '').trim().toLowerCase();
}

/** Macros whose body is program text, never markup (rule 1). */
const CODE_MACROS = new Set(['code', 'noformat']);

/**
 * All text below `node`, markup-free and unnormalised (CDATA included). A row is never text of
 * what holds it: every `<tr>` is read on its own, as a row of its nearest table.
 */
export function rawText(node: AnyNode): string {
  let text = '';
  const stack: AnyNode[] = [node];
  while (stack.length > 0) {
    const current = stack.pop() as AnyNode;
    if (current.type === 'text') text += current.data;
    else if (isParent(current) && (current === node || !isRow(current)))
      for (let i = current.children.length - 1; i >= 0; i--) stack.push(current.children[i] as AnyNode);
  }
  return text;
}

function isRow(node: AnyNode): boolean {
  return isElement(node) && node.name === 'tr';
}

/** Where an element sits: in page content, in program text (never a table), or in an html macro. */
export type Placement = 'page' | 'code' | 'html';

export function placementOf(element: Element): Placement {
  for (let node = element.parent; node !== null; node = node.parent) {
    if (!isElement(node)) continue;
    const macro = macroName(node);
    if (macro === 'html') return 'html';
    if ((macro !== null && CODE_MACROS.has(macro)) || node.name === 'ac:plain-text-body') {
      const owner = node.parent;
      return owner !== null && isElement(owner) && macroName(owner) === 'html' ? 'html' : 'code';
    }
  }
  return 'page';
}

function isHtmlMacro(element: Element): boolean {
  return macroName(element) === 'html';
}

/** A table of the page, in page order. */
export interface PageTable {
  element: Element;
  /** Written as raw HTML inside an html macro: reported, never read (rule 2). */
  inHtmlMacro: boolean;
}

/** Marks, on the walk's stack, where the walk leaves a row (the row itself is on `rowsOpen`). */
const ROW_END = Symbol('row end');

/**
 * Rule 1: every table of the page in the order it starts, wherever it sits, nested tables
 * after the table holding them; an html macro's tables where the macro starts. Tables in code
 * and noformat text are no tables.
 *
 * `readRow` gets every row of a table in page content: each `<tr>` that no nested table holds,
 * in the order the end tags come in (a row written inside another row's cell comes first),
 * just after the walk has been through it, while its nodes are still in the CPU's cache.
 *
 * One walk does both: reading the rows in a second pass would fetch every cell from memory
 * again.
 */
export function findTables($: CheerioAPI, readRow: (table: Element, row: Element) => void): PageTable[] {
  const tables: PageTable[] = [];
  const inPageContent = new Set<Element>();
  const stack: (AnyNode | typeof ROW_END)[] = [];
  const rowsOpen: Element[] = [];
  const readRowOf = (row: Element): void => {
    const table = nearestTable(row);
    if (table !== null && inPageContent.has(table)) readRow(table, row);
  };
  const root = $.root()[0] as Document;
  for (let i = root.children.length - 1; i >= 0; i--) stack.push(root.children[i] as AnyNode);
  while (stack.length > 0) {
    const node = stack.pop() as AnyNode | typeof ROW_END;
    if (node === ROW_END) {
      readRowOf(rowsOpen.pop() as Element);
      continue;
    }
    if (node.type !== 'tag') continue;
    const name = node.name;
    if (name === 'tr') {
      // A cell of nothing but text holds no table and no row: only the other children are
      // walked, and a row with none is read at once (nothing of it can end later).
      stack.push(ROW_END);
      const size = stack.length;
      for (let i = node.children.length - 1; i >= 0; i--) {
        const child = node.children[i] as AnyNode;
        if (!isTextCell(child)) stack.push(child);
      }
      if (stack.length > size) {
        rowsOpen.push(node);
      } else {
        stack.pop();
        readRowOf(node);
      }
      continue;
    }
    if (name === 'table') {
      const placement = placementOf(node);
      if (placement !== 'code') tables.push({ element: node, inHtmlMacro: placement === 'html' });
      if (placement === 'page') inPageContent.add(node);
    } else if (isHtmlMacro(node)) {
      for (const table of tablesInHtmlMacro(node)) tables.push({ element: table, inHtmlMacro: true });
    }
    if (isTextCell(node)) continue;
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as AnyNode);
  }
  return tables;
}

function isTextCell(node: AnyNode): boolean {
  return node.type === 'tag' && (node.name === 'td' || node.name === 'th') && soleText(node) !== null;
}

/** The table a row belongs to: the nearest enclosing one (rows of a nested table are its own). */
function nearestTable(row: Element): Element | null {
  for (let node = row.parent; node !== null; node = node.parent) {
    if (node.type === 'tag' && node.name === 'table') return node;
  }
  return null;
}

/**
 * The tables written as raw HTML in an html macro's body, in order. A walk rather than
 * `$('table')`: the body is whatever its author pasted, and nested 40,000 deep, a selection
 * would add seconds (see the module comment).
 */
function tablesInHtmlMacro(macro: Element): Element[] {
  const body = elementChildren(macro).find((child) => child.name === 'ac:plain-text-body');
  if (body === undefined) return [];
  const tables: Element[] = [];
  const stack: AnyNode[] = [loadStorage(rawText(body)).root()[0] as Document];
  while (stack.length > 0) {
    const node = stack.pop() as AnyNode;
    if (isElement(node) && node.name === 'table') tables.push(node);
    if (isParent(node))
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as AnyNode);
  }
  return tables;
}

const STRUCK_ELEMENTS = new Set(['s', 'del', 'strike']);
const LINE_THROUGH_STYLE = /text-decoration[a-z-]*\s*:[^;]*line-through/i;

/** Rule 4: struck-through text counts as deleted. */
export function isStruckThrough(element: Element): boolean {
  if (STRUCK_ELEMENTS.has(element.name)) return true;
  const style = element.attribs['style'];
  return style !== undefined && LINE_THROUGH_STYLE.test(style);
}

/** Boundaries Confluence renders as a new line (rule 4 names br, paragraphs and list items). */
const LINE_ELEMENTS = new Set([
  'p',
  'li',
  'div',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'ul',
  'ol',
  'dl',
  'dt',
  'dd',
  'blockquote',
  'pre',
  'hr',
  'table',
  'caption',
  'tr',
  'td',
  'th',
  'ac:task',
  'ac:rich-text-body',
  'ac:plain-text-body',
  'ac:layout-section',
  'ac:layout-cell',
]);

/**
 * Elements that carry no visible text in storage (rule 4): macro parameters (a Jira macro is
 * nothing but parameters), placeholders, emoticons, task bookkeeping, ADF attributes, scripts.
 */
const SILENT_ELEMENTS = new Set([
  'ac:parameter',
  'ac:default-parameter',
  'ac:placeholder',
  'ac:emoticon',
  'ac:task-id',
  'ac:task-uuid',
  'ac:task-status',
  'ac:adf-attribute',
  'script',
  'style',
]);

const LINK_BODIES = new Set(['ac:link-body', 'ac:plain-text-link-body']);
const NON_BLANK = /\S/;

/** What a link without a body shows: the page or blog post title, or the attachment's file name. */
function linkTargetTitle(link: Element): string {
  for (const child of elementChildren(link)) {
    if (child.name === 'ri:page' || child.name === 'ri:blog-post')
      return child.attribs['ri:content-title'] ?? '';
    if (child.name === 'ri:attachment') return child.attribs['ri:filename'] ?? '';
  }
  return '';
}

function statusTitle(macro: Element): string {
  const title = elementChildren(macro).find(
    (child) => child.name === 'ac:parameter' && (child.attribs['ac:name'] ?? '').toLowerCase() === 'title',
  );
  return title ? rawText(title) : '';
}

const LINE_BREAK = Symbol('line break');
/** A node still to visit, a line break, or text decided on already (a status title, a link's page title). */
type Pending = AnyNode | typeof LINE_BREAK | string;

function pushChildren(stack: Pending[], node: ParentNode): void {
  for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as AnyNode);
}

/** The one text node of `<td>text</td>` or `<td><p>text</p></td>`, the shape of most cells. */
function soleText(cell: Element): string | null {
  if (cell.children.length !== 1) return null;
  let node = cell.children[0] as AnyNode;
  if (node.type === 'tag') {
    if (node.name !== 'p' || hasAttributes(node) || node.children.length !== 1) return null;
    node = node.children[0] as AnyNode;
  }
  return node.type === 'text' ? node.data : null;
}

export function hasAttributes(element: Element): boolean {
  for (const _name in element.attribs) return true;
  return false;
}

const NO_LINES: readonly string[] = Object.freeze([]);

/**
 * Rule 4: a cell's text as lines — tags stripped, entities decoded, struck-through text and
 * text-less elements left out, `<br/>`/paragraph/list-item boundaries as line breaks, each line
 * normalised by `normalise` and empty lines dropped.
 */
export function cellLines(cell: Element, normalise: (line: string) => string): readonly string[] {
  if (isStruckThrough(cell) || cell.children.length === 0) return NO_LINES;
  const sole = soleText(cell);
  if (sole !== null) {
    const text = normalise(sole);
    return text === '' ? NO_LINES : [text];
  }
  const stack: Pending[] = [];
  const lines: string[] = [];
  let line = '';
  pushChildren(stack, cell);
  while (stack.length > 0) {
    const item = stack.pop() as Pending;
    if (item === LINE_BREAK) {
      lines.push(line);
      line = '';
    } else if (typeof item === 'string') {
      line += item;
    } else if (item.type === 'text') {
      line += item.data;
    } else if (item.type === 'cdata') {
      pushChildren(stack, item);
    } else if (isElement(item)) {
      visitElement(item, stack);
    }
  }
  lines.push(line);
  const normalised: string[] = [];
  for (const text of lines.map(normalise)) if (text !== '') normalised.push(text);
  return normalised;
}

function visitElement(element: Element, stack: Pending[]): void {
  const name = element.name;
  // A row inside a cell is a row of its own table (see tableRows), never the cell's text.
  if (SILENT_ELEMENTS.has(name) || name === 'tr' || isStruckThrough(element)) return;
  if (name === 'br') {
    stack.push(LINE_BREAK);
    return;
  }
  const macro = macroName(element);
  if (macro === 'status') {
    stack.push(` ${statusTitle(element)} `);
    return;
  }
  if (macro === 'html') return;
  if (name === 'time' && element.attribs['datetime'] !== undefined) {
    stack.push(element.attribs['datetime']);
    return;
  }
  if (name === 'ac:link') {
    const hasBody = elementChildren(element).some(
      (child) => LINK_BODIES.has(child.name) && NON_BLANK.test(rawText(child)),
    );
    if (!hasBody) {
      stack.push(linkTargetTitle(element));
      return;
    }
  }
  if (name === 'ac:plain-text-body') {
    // Program text: its own newlines are the line breaks.
    const pieces = rawText(element).split(/\r?\n/);
    stack.push(LINE_BREAK);
    for (let i = pieces.length - 1; i >= 0; i--) {
      stack.push(pieces[i] as string);
      if (i > 0) stack.push(LINE_BREAK);
    }
    stack.push(LINE_BREAK);
    return;
  }
  const breaksLine = LINE_ELEMENTS.has(name);
  if (breaksLine) stack.push(LINE_BREAK);
  pushChildren(stack, element);
  if (breaksLine) stack.push(LINE_BREAK);
}
