/**
 * The DOM the parser reads: storage format loaded by cheerio with htmlparser2's options passed
 * as cheerio's `xml` option, which must give exactly what htmlparser2 gives with those options
 * (cheerio's `xml` turns XML mode on, and the options' `xmlMode: false` must turn it off again).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AnyNode, Element } from 'domhandler';
import { parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { parseRestrictedList } from '../../src/parser/index.ts';
import { loadStorage, STORAGE_PARSER_OPTIONS } from '../../src/parser/storage.ts';

/** A node as plain data: what the parser can see of it. */
type Shape = {
  type: string;
  name?: string;
  attribs?: Record<string, string>;
  data?: string;
  children?: Shape[];
};

function shape(node: AnyNode): Shape {
  const found: Shape = { type: node.type };
  if ('name' in node) found.name = node.name;
  if ('attribs' in node) found.attribs = { ...node.attribs };
  if ('data' in node) found.data = node.data;
  if ('children' in node) found.children = node.children.map(shape);
  return found;
}

function loaded(storage: string): Shape {
  return shape(loadStorage(storage).root()[0] as AnyNode);
}

const PAGES = [
  fileURLToPath(new URL('../fixtures/pages/', import.meta.url)),
  fileURLToPath(new URL('../../../shared/corpus/confluence-storage/', import.meta.url)),
].flatMap((directory) => {
  try {
    return readdirSync(directory)
      .filter((name) => name.endsWith('.xhtml'))
      .map((name) => directory + name);
  } catch {
    return [];
  }
});

describe('the storage-format DOM', () => {
  it.each(PAGES.map((path) => [path.split('/').slice(-1)[0], path]))(
    'is the DOM htmlparser2 builds with the storage options: %s',
    (_name, path) => {
      const storage = readFileSync(path as string, 'utf8');
      expect(loaded(storage)).toEqual(shape(parseDocument(storage, STORAGE_PARSER_OPTIONS)));
    },
  );

  it('decodes HTML named entities, which XML mode would leave as text', () => {
    const text = (storage: string): string => loadStorage(storage).root().text();
    expect(text('<p>a&nbsp;b &Uuml;bersicht &amp; &rsquo;</p>')).toBe('a\u00a0b Übersicht & \u2019');
  });

  it('reads a CDATA section as text, never as markup', () => {
    const $ = loadStorage(
      '<ac:plain-text-body><![CDATA[<table><tr><td>x</td></tr></table>]]></ac:plain-text-body>',
    );
    const body = $.root()[0]?.children[0] as Element;
    expect(shape(body).children).toEqual([
      { type: 'cdata', children: [{ type: 'text', data: '<table><tr><td>x</td></tr></table>' }] },
    ]);
    expect($('table')).toHaveLength(0);
  });

  it('closes self-closing tags, void or not', () => {
    expect(loaded('<p>a<br/>b</p><ac:parameter ac:name="x"/>c')).toEqual({
      type: 'root',
      children: [
        {
          type: 'tag',
          name: 'p',
          attribs: {},
          children: [
            { type: 'text', data: 'a' },
            { type: 'tag', name: 'br', attribs: {}, children: [] },
            { type: 'text', data: 'b' },
          ],
        },
        { type: 'tag', name: 'ac:parameter', attribs: { 'ac:name': 'x' }, children: [] },
        { type: 'text', data: 'c' },
      ],
    });
  });

  it('keeps ac: and ri: names, lower-casing element and attribute names', () => {
    const $ = loadStorage(
      '<AC:Structured-Macro AC:Name="Info"><ac:rich-text-body><ac:link><ri:page ri:content-title="Falcon"/></ac:link></ac:rich-text-body></AC:Structured-Macro>',
    );
    const macro = $('ac\\:structured-macro')[0];
    expect(macro?.name).toBe('ac:structured-macro');
    expect(macro?.attribs).toEqual({ 'ac:name': 'Info' });
    expect($('ri\\:page').attr('ri:content-title')).toBe('Falcon');
  });
});

describe('an html macro body nested deeper than any recursive walk survives', () => {
  it('still has its table found and named in the warning', () => {
    const body = `<table><tr><td>${'<div>'.repeat(12_000)}Deep</td></tr></table>`;
    const html = `<ac:structured-macro ac:name="html"><ac:plain-text-body><![CDATA[${body}]]></ac:plain-text-body></ac:structured-macro>`;
    const list = '<table><tr><th>Ticker</th></tr><tr><td>MSFT</td></tr></table>';
    const result = parseRestrictedList({ pageId: 'p', storage: list + html });
    expect(result).toMatchObject({
      ok: true,
      warnings: [{ code: 'html_macro_table', table: 2, raw: 'Deep' }],
    });
  });
});
