import { join } from 'node:path';

/** Where `npm run generate` writes the portal's browser bundle (scripts/build-portal.ts) and the router serves it. */
export const PORTAL_BUNDLE_DIR = join(__dirname, '..', '..', 'generated', 'portal');
