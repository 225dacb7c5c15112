import { isUtf8 } from 'node:buffer';
import type { RequestHandler } from 'express';
import { ApiError } from './errors';

/**
 * The one place every input passes before any route: the path, the query and the JSON body must be valid
 * UTF-8 text without control characters (a NUL byte reached PostgreSQL and answered 500). A body may hold tabs
 * and line breaks; a path or a query may not.
 */
// eslint-disable-next-line no-control-regex
const CONTROL_IN_LINE = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/** A lone UTF-16 surrogate: what a JSON "\ud800" escape gives, not text. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const MAX_DEPTH = 32;

const invalid = (where: string) =>
  new ApiError(400, 'invalidText', `${where} holds a control character or is not valid UTF-8 text`);

function decoded(component: string, where: string): string {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    throw invalid(where);
  }
}

function checkLine(text: string, where: string): void {
  if (CONTROL_IN_LINE.test(text) || LONE_SURROGATE.test(text)) throw invalid(where);
}

function checkBody(value: unknown, where: string, depth = 0): void {
  if (depth > MAX_DEPTH) throw new ApiError(400, 'invalidInput', 'The body is nested too deeply');
  if (typeof value === 'string') {
    if (CONTROL_IN_TEXT.test(value) || LONE_SURROGATE.test(value)) throw invalid(where);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => checkBody(item, `${where}[${index}]`, depth + 1));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      checkBody(key, `${where} field name`, depth + 1);
      checkBody(item, `${where}.${key.slice(0, 40)}`, depth + 1);
    }
  }
}

export const validText: RequestHandler = (req, _res, next) => {
  const [path, query = ''] = req.originalUrl.split(/\?(.*)/s, 2);
  for (const segment of path.split('/')) checkLine(decoded(segment, 'The path'), 'The path');
  for (const part of query.split('&')) {
    const [name, value = ''] = part.split(/=(.*)/s, 2);
    const nameText = decoded(name, 'A query parameter name');
    checkLine(nameText, 'A query parameter name');
    const where = `The query parameter "${nameText.slice(0, 40)}"`;
    checkLine(decoded(value, where), where);
  }
  if (req.invalidUtf8) throw invalid('The body');
  checkBody(req.body, 'body');
  next();
};

/** For express.json's verify: remembers a body that is not UTF-8 (the parser would silently replace bytes). */
export function markInvalidUtf8(req: { invalidUtf8?: boolean }, buffer: Buffer): void {
  req.invalidUtf8 = !isUtf8(buffer);
}
