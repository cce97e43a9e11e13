import type { Connection } from '@temporalio/client';
// A CommonJS package: Node's ESM loader sees only its default export.
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from './contract.ts';

type AttributeType =
  | (typeof SEARCH_ATTRIBUTES)[keyof typeof SEARCH_ATTRIBUTES]
  | 'Keyword'
  | 'Text'
  | 'Bool'
  | 'Double'
  | 'Datetime';

const { IndexedValueType } = proto.temporal.api.enums.v1;

const INDEXED_VALUE_TYPES: Record<AttributeType, proto.temporal.api.enums.v1.IndexedValueType> = {
  Text: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/**
 * Registers the search attributes the workflow sets, if missing. Without them every workflow
 * task fails with BadSearchAttributes and runs look stuck, so the worker checks before it starts
 * and refuses to start with a fix when it cannot register them (no operator permission).
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  attributes: Readonly<Record<string, AttributeType>> = SEARCH_ATTRIBUTES,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.entries(attributes).filter(([name]) => !(name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]])),
    });
  } catch (error) {
    const commands = missing.map(
      ([name, type]) =>
        `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${type}`,
    );
    throw new Error(
      `the search attributes ${missing.map(([n]) => n).join(', ')} are not registered in namespace ${namespace} and could not be registered (${(error as Error).message}); run: ${commands.join(' && ')}`,
      { cause: error },
    );
  }
  return missing.map(([name]) => name);
}
