import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { COMPILED_MAILS_FILE, everyMjml, mjmlHash } from '../activities/email-templates';
import { compileMjml } from '../activities/mail-layout';

/**
 * Part of npm run generate: compiles the MJML of every mail (template × language × variant) to HTML once, so a
 * worker starts without compiling (tens of milliseconds each). A template changed after this is compiled
 * by the worker itself.
 */
async function main() {
  const compiled: Record<string, string> = {};
  for (const mjml of everyMjml()) compiled[mjmlHash(mjml)] = await compileMjml(mjml);
  mkdirSync(dirname(COMPILED_MAILS_FILE), { recursive: true });
  writeFileSync(COMPILED_MAILS_FILE, JSON.stringify(compiled));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
