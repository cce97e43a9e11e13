/**
 * Reading Confluence storage format: building the DOM, finding the tables (rule 1) and turning
 * a cell into the text Confluence shows (rule 4).
 *
 * The DOM is built by htmlparser2 (cheerio's own parser) and walked as plain domhandler nodes:
 * wrapping nodes in cheerio objects costs ten times the parse itself on a large page. Every walk
 * is iterative, so no nesting depth can overflow the stack.
 */
import type { AnyNode, Document, Element, ParentNode } from 'domhandler';
import { DomHandler, Parser } from 'htmlparser2';

/**
 * HTML mode is what decodes HTML named entities (`&nbsp;`, `&Uuml;`); XML mode would leave them
 * as literal text. Self-closing tags and CDATA sections are storage-format XHTML, so both are
 * recognised as such; names are lower-cased, which leaves the `ac:`/`ri:` names unchanged.
 */
const STORAGE_PARSER_OPTIONS = {
  xmlMode: false,
  decodeEntities: true,
  recognizeSelfClosing: true,
  recognizeCDATA: true,
  lowerCaseTags: true,
  lowerCaseAttributeNames: true,
} as const;

/**
 * Parses storage format into a domhandler document. `onElementClosed` sees every element as
 * soon as its end tag is read, with its subtree complete and its ancestors in place: the table
 * reader uses it to condense each row while the rest of the page is still being read.
 */
export function parseStorage(storage: string, onElementClosed?: (element: Element) => void): Document {
  const handler = new DomHandler(undefined, { withStartIndices: true }, onElementClosed);
  new Parser(handler, STORAGE_PARSER_OPTIONS).end(storage);
  return handler.root;
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

/** All text below `node`, markup-free and unnormalised (CDATA included). */
export function rawText(node: AnyNode): string {
  let text = '';
  const stack: AnyNode[] = [node];
  while (stack.length > 0) {
    const current = stack.pop() as AnyNode;
    if (current.type === 'text') text += current.data;
    else if (isParent(current))
      for (let i = current.children.length - 1; i >= 0; i--) stack.push(current.children[i] as AnyNode);
  }
  return text;
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

/** The table a row belongs to: the nearest enclosing one (rows of a nested table are its own). */
export function enclosingTable(row: Element): Element | null {
  for (let node = row.parent; node !== null; node = node.parent) {
    if (isElement(node) && node.name === 'table') return node;
  }
  return null;
}

export function isHtmlMacro(element: Element): boolean {
  return macroName(element) === 'html';
}

/** The tables written as raw HTML in an html macro's body, in order. */
export function tablesInHtmlMacro(macro: Element): Element[] {
  const body = elementChildren(macro).find((child) => child.name === 'ac:plain-text-body');
  if (body === undefined) return [];
  const tables: Element[] = [];
  const stack: AnyNode[] = [parseStorage(rawText(body))];
  while (stack.length > 0) {
    const node = stack.pop() as AnyNode;
    if (isElement(node) && node.name === 'table') tables.push(node);
    if (isParent(node))
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as AnyNode);
  }
  return tables;
}

/** Removes an element whose end tag was just read from the DOM, so nothing keeps it alive. */
export function detach(element: Element): void {
  const siblings = element.parent?.children;
  if (siblings !== undefined) {
    const index = siblings.lastIndexOf(element);
    if (index >= 0) siblings.splice(index, 1);
  }
  if (element.prev !== null) element.prev.next = null;
  element.parent = null;
  element.prev = null;
  element.next = null;
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
  let node: AnyNode | undefined = cell;
  for (let depth = 0; depth < 2 && node !== undefined && isElement(node); depth++) {
    if (node.children.length !== 1) return null;
    node = node.children[0];
    if (node !== undefined && isElement(node) && (node.name !== 'p' || Object.keys(node.attribs).length > 0))
      return null;
  }
  return node !== undefined && node.type === 'text' ? node.data : null;
}

const NO_LINES: readonly string[] = Object.freeze([]);

/**
 * Rule 4: a cell's text as lines — tags stripped, entities decoded, struck-through text and
 * text-less elements left out, `<br/>`/paragraph/list-item boundaries as line breaks, each line
 * normalised by `normalise` and empty lines dropped.
 */
export function cellLines(cell: Element, normalise: (line: string) => string): readonly string[] {
  if (isStruckThrough(cell)) return NO_LINES;
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
  if (SILENT_ELEMENTS.has(name) || isStruckThrough(element)) return;
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
