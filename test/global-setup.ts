import { temporalBinary } from '../lib/temporal-binaries';

// Installs the pinned Temporal binaries once, before any test file starts a server.
export default function globalSetup(): void {
  temporalBinary('testServer', (line) => process.stdout.write(`\n${line}\n`));
  temporalBinary('cli', (line) => process.stdout.write(`\n${line}\n`));
}
