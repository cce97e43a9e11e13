/** Rule 4: the text of a cell is what Confluence shows. */
import { describe, expect, it } from 'vitest';
import { parseOk, th, tr } from './helpers.ts';

/** The reason read from a data row whose Reason cell holds `cellMarkup` (the whole `<td>…</td>`). */
function reasonOf(cellMarkup: string): string | null {
  const page = `<table><tbody>${tr(th('Ticker'), th('Reason'))}<tr><td>MSFT</td>${cellMarkup}</tr></tbody></table>`;
  const [found] = parseOk(page).instruments;
  return found?.reason ?? null;
}

/** The tickers read from a data row whose Ticker cell is `cellMarkup`. */
function tickersOf(cellMarkup: string): (string | null)[] {
  const page = `<table><tbody>${tr(th('Ticker'), th('Reason'))}<tr>${cellMarkup}<td>x</td></tr></tbody></table>`;
  return parseOk(page).instruments.map((found) => found.ticker);
}

/** Behaviours one Reason cell shows: the markup Confluence stores, and the reason read from it. */
const ONE_CELL_CASES = [
  {
    behaviour: 'strips tags and decodes entities, HTML named ones included',
    cell: '<td><p><strong>M&amp;A</strong> <em>advisory</em> &ndash; &Uuml;bernahme &#8220;Falcon&#8221;</p></td>',
    reason: 'M&A advisory – Übernahme “Falcon”',
  },
  {
    behaviour: 'reads &nbsp; as a space and collapses and trims whitespace',
    cell: '<td><p>&nbsp; Inside&nbsp;&nbsp;information \n\t </p></td>',
    reason: 'Inside information',
  },
  {
    behaviour: 'reads the status macro by its title',
    cell: '<td><p><ac:structured-macro ac:name="status" ac:schema-version="1" ac:macro-id="a1"><ac:parameter ac:name="colour">Red</ac:parameter><ac:parameter ac:name="title">Buy only</ac:parameter></ac:structured-macro></p></td>',
    reason: 'Buy only',
  },
  {
    behaviour: 'gives nothing for user mentions, Jira macros, emoticons, placeholders and comments',
    cell:
      '<td><p>Wall-crossed by <ac:link><ri:user ri:account-id="5b10ac8d82e05b22cc7d4ef5" /></ac:link>' +
      '<ac:structured-macro ac:name="jira" ac:schema-version="1"><ac:parameter ac:name="key">COMP-12</ac:parameter><ac:parameter ac:name="server">System JIRA</ac:parameter></ac:structured-macro>' +
      '<ac:emoticon ac:name="warning" ac:emoji-shortname=":warning:" ac:emoji-fallback="⚠️" />' +
      '<ac:placeholder>Type the reason here</ac:placeholder><!-- reviewed by legal --></p></td>',
    reason: 'Wall-crossed by',
  },
  {
    behaviour: 'keeps text under an inline comment marker',
    cell: '<td><p><ac:inline-comment-marker ac:ref="c1">Research</ac:inline-comment-marker> blackout</p></td>',
    reason: 'Research blackout',
  },
  {
    behaviour: 'joins a multi-line cell with spaces where line breaks carry no meaning',
    cell: '<td><p>Inside</p><p>information</p></td>',
    reason: 'Inside information',
  },
  {
    behaviour: 'reads text inside macros in a cell (a panel body) but not their parameters',
    cell: '<td><ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Heads-up</ac:parameter><ac:rich-text-body><p>Deal</p></ac:rich-text-body></ac:structured-macro></td>',
    reason: 'Deal',
  },
];

describe('rule 4: cell text', () => {
  // A loop rather than it.each: it.each would cut these names short.
  for (const { behaviour, cell, reason } of ONE_CELL_CASES) {
    it(behaviour, () => {
      expect(reasonOf(cell)).toBe(reason);
    });
  }

  it('composes NFC and removes invisible format characters', () => {
    expect(
      reasonOf('<td><p>\u200bSoci\u0065\u0301t\u0065\u0301 G\u00e9n\u00e9rale\u200e\ufeff</p></td>'),
    ).toBe('Soci\u00e9t\u00e9 G\u00e9n\u00e9rale');
    expect(tickersOf('<td><p>MS\u200bFT\u2060</p></td>')).toEqual(['MSFT']);
  });

  it('reads a page link without a body as the page title, and a link with a body as its body', () => {
    expect(
      reasonOf(
        '<td><p>See <ac:link><ri:page ri:space-key="COMP" ri:content-title="Project Falcon &amp; Co" /></ac:link></p></td>',
      ),
    ).toBe('See Project Falcon & Co');
    expect(
      reasonOf(
        '<td><ac:link><ri:page ri:content-title="Project Falcon" /><ac:plain-text-link-body><![CDATA[the Falcon deal]]></ac:plain-text-link-body></ac:link></td>',
      ),
    ).toBe('the Falcon deal');
    expect(
      reasonOf(
        '<td><ac:link><ri:page ri:content-title="Falcon" /><ac:link-body>deal <em>page</em></ac:link-body></ac:link></td>',
      ),
    ).toBe('deal page');
  });

  it('deletes struck-through text: <s>, <del>, <strike> and text-decoration: line-through', () => {
    expect(reasonOf('<td><p><s>Deal</s> Research <del>old</del><strike>older</strike></p></td>')).toBe(
      'Research',
    );
    expect(
      reasonOf(
        '<td><p><span style="color: red; text-decoration: line-through;">Deal</span>Blackout</p></td>',
      ),
    ).toBe('Blackout');
    expect(
      reasonOf(
        '<td><p><span style="text-decoration-line: underline line-through">Deal</span>Blackout</p></td>',
      ),
    ).toBe('Blackout');
    expect(reasonOf('<td><p><span style="text-decoration: underline">Deal</span></p></td>')).toBe('Deal');
    expect(reasonOf('<td style="text-decoration: line-through"><p>Deal</p></td>')).toBeNull();
  });

  it('reads <br/>, paragraph and list-item boundaries as line breaks', () => {
    expect(tickersOf('<td>AAPL<br/>MSFT</td>')).toEqual(['AAPL', 'MSFT']);
    expect(tickersOf('<td><p>AAPL</p><p>MSFT</p></td>')).toEqual(['AAPL', 'MSFT']);
    expect(tickersOf('<td><ul><li>AAPL</li><li>MSFT</li></ul></td>')).toEqual(['AAPL', 'MSFT']);
    expect(tickersOf('<td><ol><li><p>AAPL</p></li><li>MSFT</li></ol></td>')).toEqual(['AAPL', 'MSFT']);
    // A newline in the source is whitespace, not a line break.
    expect(tickersOf('<td><p>VOD\nLN</p></td>')).toEqual(['VOD LN']);
  });

  it('reads a date macro as its date', () => {
    const page = `<table><tbody>${tr(th('Ticker'), th('Date added'))}<tr><td>MSFT</td><td><p><time datetime="2026-03-01" /></p></td></tr></tbody></table>`;
    expect(parseOk(page).instruments[0]?.effective_from).toBe('2026-03-01');
  });

  it('reads a cell written as a self-closing tag as empty', () => {
    const page = `<table><tbody>${tr(th('Ticker'), th('Reason'))}<tr><td>MSFT</td><td/></tr></tbody></table>`;
    expect(parseOk(page).instruments[0]?.reason).toBeNull();
  });
});
