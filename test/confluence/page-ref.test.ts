import { describe, expect, it } from 'vitest';
import {
  decodeTinyLinkCode,
  encodeTinyLinkCode,
  parsePageRef,
  PageRefError,
} from '../../src/confluence/page-ref.ts';

describe('parsePageRef', () => {
  it.each([
    ['123456', '123456'],
    [' 123456 ', '123456'],
    ['https://example.atlassian.net/wiki/spaces/COMP/pages/123456/Restricted+Instruments', '123456'],
    ['https://example.atlassian.net/wiki/spaces/COMP/pages/123456', '123456'],
    ['https://example.atlassian.net/wiki/spaces/~5570/pages/123456/Title?focusedCommentId=1#x', '123456'],
    ['https://example.atlassian.net/wiki/pages/viewpage.action?pageId=123456', '123456'],
    ['https://confluence.example.com/pages/viewpage.action?pageId=98765&src=contextnavpagetreemode', '98765'],
    ['https://example.atlassian.net/wiki/x/QOIB', '123456'],
    // Data Center, under a context path.
    ['https://wiki.example.com/confluence/pages/viewpage.action?pageId=123456', '123456'],
    ['https://wiki.example.com/confluence/spaces/COMP/pages/123456/Restricted+Instruments', '123456'],
    ['https://wiki.example.com/confluence/x/QOIB', '123456'],
  ])('%s → page %s', (ref, id) => {
    expect(parsePageRef(ref)).toEqual({ kind: 'id', id });
  });

  it('reads /display/KEY/Title links as a space and title to look up', () => {
    expect(parsePageRef('https://confluence.example.com/display/COMP/Restricted+Instruments+List')).toEqual({
      kind: 'title',
      spaceKey: 'COMP',
      title: 'Restricted Instruments List',
    });
  });

  it('reads a Data Center link by space and title the same way, with or without viewpage.action', () => {
    const title = { kind: 'title', spaceKey: 'COMP', title: 'Restricted Instruments (Q4)' };
    expect(
      parsePageRef('https://wiki.example.com/confluence/display/COMP/Restricted+Instruments+%28Q4%29'),
    ).toEqual(title);
    expect(
      parsePageRef(
        'https://wiki.example.com/confluence/pages/viewpage.action?spaceKey=COMP&title=Restricted+Instruments+%28Q4%29',
      ),
    ).toEqual(title);
  });

  it.each([
    'restricted list',
    'https://example.atlassian.net/wiki/home',
    'https://x/pages/viewpage.action?pageId=abc',
    'https://x/pages/viewpage.action?spaceKey=COMP',
    'ftp//x',
  ])('rejects %s with a message naming the accepted forms', (ref) => {
    expect(() => parsePageRef(ref)).toThrow(PageRefError);
  });
});

describe('tiny link codes', () => {
  it('decode to the page id they encode', () => {
    expect(decodeTinyLinkCode('QOIB')).toBe('123456');
    for (const id of ['1', '65536', '163841', '2147483648', '9007199254740993']) {
      expect(decodeTinyLinkCode(encodeTinyLinkCode(id))).toBe(id);
    }
  });
  it('reject codes that cannot be page ids', () => {
    expect(decodeTinyLinkCode('AAAA')).toBeNull();
    expect(decodeTinyLinkCode('not/valid')).toBeNull();
  });
});
