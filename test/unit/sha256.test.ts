import { createHash, randomBytes } from 'node:crypto';
import { sha256Hex } from '../../workflows/sha256';

const nodeSha256 = (text: string) => createHash('sha256').update(text, 'ascii').digest('hex');

test('the workflow SHA-256 gives the known digests', () => {
  expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('the workflow SHA-256 agrees with node:crypto at every length around the block boundaries', () => {
  for (let length = 0; length <= 200; length++) {
    const text = randomBytes(length).toString('base64').slice(0, length);
    expect(sha256Hex(text)).toBe(nodeSha256(text));
  }
});

test('the workflow SHA-256 refuses what is not printable ASCII instead of hashing it differently', () => {
  expect(() => sha256Hex('é')).toThrow(/ASCII/);
});
