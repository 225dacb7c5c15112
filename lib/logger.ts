import pino from 'pino';

// Never log codes, passwords, secrets or signatures, whatever object they hide in.
export const REDACTED_PATHS = [
  'token',
  'code',
  'password',
  'secret',
  '*.token',
  '*.code',
  '*.password',
  '*.secret',
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-ovh-signature"]',
  'req.headers["x-ovh-consumer"]',
  'req.headers["x-csrf-token"]',
];

export function createLogger(level: string, destination?: pino.DestinationStream) {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}

export type Logger = pino.Logger;
