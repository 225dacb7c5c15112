import { createHmac, randomBytes } from 'node:crypto';

// No 0/O, 1/I/L: the code is read in an email and typed by hand.
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const CODE_LENGTH = 10;

/** A fresh verification code, uniformly drawn with crypto.randomBytes (rejection sampling, no modulo bias). */
export function generateCode(): string {
  const limit = 256 - (256 % ALPHABET.length);
  let code = '';
  while (code.length < CODE_LENGTH) {
    for (const byte of randomBytes(CODE_LENGTH * 2)) {
      if (byte < limit && code.length < CODE_LENGTH) code += ALPHABET[byte % ALPHABET.length];
    }
  }
  return code;
}

/** What a person may type: any case, with spaces or dashes. */
export function normalizeCode(typed: string): string {
  return typed.toUpperCase().replace(/[\s-]/g, '');
}

/** Keyed hash bound to the task and the validator: a code is only good for its own task and person. */
export function hashCode(key: string, taskId: number, handle: string, code: string): string {
  return createHmac('sha256', key)
    .update(`${taskId}:${handle}:${normalizeCode(code)}`)
    .digest('hex');
}
