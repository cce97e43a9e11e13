import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes.ts';

describe('ensureSearchAttributes', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address: inject('temporalAddress') });
  });
  afterAll(() => connection.close());

  it('registers missing attributes once, then finds them registered', async () => {
    const name = `RlsTest${randomBytes(4).toString('hex')}`;
    expect(await ensureSearchAttributes(connection, 'default', { [name]: 'Keyword' })).toEqual([name]);
    const listed = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(listed.customAttributes?.[name]).toBeDefined();
    expect(await ensureSearchAttributes(connection, 'default', { [name]: 'Keyword' })).toEqual([]);
  });

  it('finds the workflow attributes already registered on the test server', async () => {
    expect(await ensureSearchAttributes(connection, 'default')).toEqual([]);
  });
});
