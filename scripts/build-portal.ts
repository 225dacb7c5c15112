import { build } from 'esbuild';
import { join } from 'node:path';
import { PORTAL_BUNDLE_DIR } from '../api/portal/bundle';

const root = join(__dirname, '..');

/** Bundles the typed portal (portal/) and its style sheet for the browser: one minified file each. */
export async function buildPortal(): Promise<void> {
  await build({
    entryPoints: { portal: join(root, 'portal', 'main.ts') },
    outdir: PORTAL_BUNDLE_DIR,
    bundle: true,
    minify: true,
    sourcemap: true,
    target: ['chrome100', 'firefox100', 'safari15'],
    platform: 'browser',
    logLevel: 'warning',
  });
  await build({
    entryPoints: { portal: join(root, 'portal', 'portal.css') },
    outdir: PORTAL_BUNDLE_DIR,
    bundle: true,
    minify: true,
    target: ['chrome100', 'firefox100', 'safari15'],
    logLevel: 'warning',
  });
}

if (require.main === module) {
  buildPortal().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
