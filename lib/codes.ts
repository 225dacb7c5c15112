import { createHash, createHmac } from 'node:crypto';

// No 0/O, 1/I/L: the code is read in an email and typed by hand.
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const CODE_LENGTH = 10;

/**
 * The code of one validator at one step of one task run, derived from the key (HMAC-SHA256 as a stream of bytes,
 * rejection-sampled onto the alphabet, no modulo bias). A retried send (after a crash or an outage) mails the
 * same code, so a code already delivered keeps working; the code itself is never stored nor logged. The run id
 * makes it unique even if task ids were ever reused.
 */
export function deriveCode(
  key: string,
  of: { workflowId: string; runId: string; taskId: number; handle: string; step: string },
): string {
  const codeKey = createHmac('sha256', key).update('contact-change verification code').digest();
  const limit = 256 - (256 % ALPHABET.length);
  let code = '';
  for (let block = 0; code.length < CODE_LENGTH; block++) {
    const bytes = createHmac('sha256', codeKey)
      .update(JSON.stringify([block, of.workflowId, of.runId, of.taskId, of.handle, of.step]))
      .digest();
    for (const byte of bytes) {
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

/**
 * What the workflow keeps of a code: SHA-256 of its keyed hash. The accept Update carries the keyed hash, which
 * cannot be recovered from this (workflows/sha256.ts computes the same digest inside the workflow).
 */
export function codeDigest(codeHash: string): string {
  return createHash('sha256').update(codeHash, 'ascii').digest('hex');
}

/** The keyed hash of a move's code: bound to the move and the validator, never good for a task (or another move). */
export function hashMoveCode(key: string, moveId: number, handle: string, code: string): string {
  return createHmac('sha256', key)
    .update(`move:${moveId}:${handle}:${normalizeCode(code)}`)
    .digest('hex');
}
