import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflows, WORKFLOW_BUNDLE_FILES } from '../../worker/workflow-bundle';

/**
 * `tsx scripts/stack/bundle-workflows.ts <dir>`: writes the plain workflow bundle into dir, as `npm run build`
 * does into dist/, for a worker started with WORKFLOW_BUNDLE_DIR=dir. Scripts that run the stack (bench, chaos)
 * run it in a process of its own: bundling keeps about 100 MiB that neither their process nor the worker's should
 * carry, and the worker then starts (and restarts) as a production one does.
 */
async function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: bundle-workflows.ts <dir>');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, WORKFLOW_BUNDLE_FILES.plain), await bundleWorkflows(false));
}

main().catch((error) => {
  process.stderr.write(`bundling failed: ${(error as Error).message}\n`);
  process.exit(1);
});
