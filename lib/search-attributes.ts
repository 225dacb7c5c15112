import type { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../workflows/contact-change.messages';

/** The temporal CLI's names for the SDK's search attribute types. */
const CLI_TYPE_NAMES = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
} as const;

/**
 * The search attributes the app publishes, as every server we start registers them (dev server, Temporal on
 * PostgreSQL; compose's docker/temporal/setup-namespace.sh keeps its own copy, checked by test/unit/search-attributes).
 * A workflow that upserts an attribute the namespace does not know fails its workflow task again and again.
 */
export const REGISTERED_SEARCH_ATTRIBUTES = Object.values(SEARCH_ATTRIBUTES).map((key) => ({
  name: key.name,
  type: CLI_TYPE_NAMES[key.type],
}));

/** `temporal server start-dev` flags that register them. */
export function devServerSearchAttributeFlags(): string[] {
  return REGISTERED_SEARCH_ATTRIBUTES.flatMap(({ name, type }) => ['--search-attribute', `${name}=${type}`]);
}

/** The app's search attributes the namespace does not have (none when every one is registered). */
export async function missingSearchAttributes(
  operatorService: temporal.api.operatorservice.v1.OperatorService,
  namespace: string,
): Promise<string[]> {
  const { customAttributes, systemAttributes } = await operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(customAttributes ?? {}), ...Object.keys(systemAttributes ?? {})]);
  return REGISTERED_SEARCH_ATTRIBUTES.map(({ name }) => name).filter((name) => !known.has(name));
}
