import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { COMPILED_MAILS_FILE } from '../activities/email-templates';
import { PORTAL_BUNDLE_DIR } from '../api/portal/bundle';
import { MIGRATIONS_DIR } from '../lib/migrate';
import { bundleWorkflows, WORKFLOW_BUNDLE_FILES } from '../worker/workflow-bundle';

/**
 * npm run build (after npm run generate): the production build in dist/, laid out like the sources so that it runs
 * from there with production dependencies only (`node dist/api/server.js`, `node dist/worker/main.js`,
 * `node dist/scripts/migrate.js`, `node dist/prisma/seed.js`):
 * - the processes' TypeScript compiled by tsc (tsconfig.build.json: the entry points and what they import);
 * - the files they read at run time, at the same place relative to the code: the migrations, the portal's browser
 *   bundle and the compiled mails;
 * - the workflow code prebundled for the worker (bundleWorkflowCode), which loads it instead of bundling at start:
 *   one bundle plain, one with the OpenTelemetry workflow interceptors for a worker that traces.
 * It fails if the compiled code needs a package that is not in package.json's dependencies.
 */
const root = resolve(__dirname, '..');
const dist = join(root, 'dist');
const step = (what: string) => process.stdout.write(`[build] ${what}\n`);

async function main() {
  rmSync(dist, { recursive: true, force: true });
  step('compiling TypeScript (tsconfig.build.json)');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  for (const path of [MIGRATIONS_DIR, PORTAL_BUNDLE_DIR, COMPILED_MAILS_FILE]) {
    step(`copying ${relative(root, path)}`);
    cpSync(path, join(dist, relative(root, path)), { recursive: true });
  }
  const sizes: string[] = [];
  for (const traced of [false, true]) {
    const file = WORKFLOW_BUNDLE_FILES[traced ? 'traced' : 'plain'];
    step(`bundling the workflow code${traced ? ' with the tracing interceptors' : ''} (${file})`);
    const code = await bundleWorkflows(traced);
    writeFileSync(join(dist, file), code);
    sizes.push(`${file} ${(code.length / 1024).toFixed(0)} KiB`);
  }
  step('checking that the build needs production dependencies only');
  checkRuntimePackages();
  step(`done: dist/ (${sizes.join(', ')})`);
}

function checkRuntimePackages() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
  const missing = new Map<string, string>();
  for (const file of jsFiles(dist)) {
    if (Object.values(WORKFLOW_BUNDLE_FILES).some((bundle) => file.endsWith(bundle))) continue;
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/require\("([^".][^"]*)"\)/g)) {
      const name = specifier
        .replace(/^node:/, '')
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/');
      if (!allowed.has(name)) missing.set(name, file.slice(root.length + 1));
    }
  }
  if (missing.size > 0) {
    const list = [...missing].map(([name, file]) => `${name} (${file})`).join(', ');
    throw new Error(`the build requires packages that are not production dependencies: ${list}`);
  }
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return jsFiles(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

main().catch((error: Error) => {
  process.stderr.write(`build failed: ${error.message}\n`);
  process.exit(1);
});
