import { temporalBinary, TemporalBinaryError } from '../lib/temporal-binaries';

try {
  for (const kind of ['cli', 'testServer'] as const) {
    const path = temporalBinary(kind, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`${kind}: ${path ?? 'left to the Temporal SDK download (platform not pinned)'}\n`);
  }
} catch (error) {
  if (!(error instanceof TemporalBinaryError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
