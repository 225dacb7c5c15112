import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random bearer token (session, consumer key, validation or confirmation token), URL-safe. */
export const newToken = (bytes = 32) => randomBytes(bytes).toString('base64url');

/**
 * What the database keeps of a bearer token: its SHA-256. The tokens carry 192+ random bits, so a plain hash
 * cannot be reversed, and someone who reads the database cannot present any of them.
 */
export const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
