import express, { Router, type Request } from 'express';
import type { Db } from '../../lib/db';
import { escapeHtml } from '../../lib/html';
import { readSession, sessionToken, type SessionSettings } from '../auth/session';
import { PORTAL_BUNDLE_DIR } from './bundle';
import { pickLanguage, TEXTS, type PortalLanguage } from './i18n';
import { portalData, type PortalPage as Page } from './page-data';

/** JSON inside a <script type="application/json"> block: "<" escaped so no text can close the block. */
const jsonForScript = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function shell(page: Page, language: PortalLanguage, params: Record<string, string>) {
  const texts = TEXTS[language];
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(texts.appName)}</title>
<link rel="stylesheet" href="/assets/portal.css">
</head>
<body>
<a class="skip" href="#main">${escapeHtml(texts.skipToContent)}</a>
<header id="header"></header>
<main id="main" tabindex="-1" data-page="${page}"><p class="loading">…</p></main>
<div id="announcer" class="visually-hidden" aria-live="polite"></div>
<script type="application/json" id="portal-data">${jsonForScript(portalData(page, language, params))}</script>
<script src="/assets/portal.js" defer></script>
</body>
</html>`;
}

export function portalRouter(deps: { db: Db; session: SessionSettings }): Router {
  const router = Router();
  // The bundle `npm run generate` builds from portal/ (scripts/build-portal.ts).
  router.use('/assets', express.static(PORTAL_BUNDLE_DIR, { maxAge: '1h' }));

  async function languageOf(req: Request): Promise<PortalLanguage> {
    const session = readSession(deps.session, sessionToken(req));
    const account = session && (await deps.db.account.findUnique({ where: { id: session.accountId } }));
    // Before login, the language switch (?lang=) wins over the browser's; after, the account's language.
    const chosen = typeof req.query.lang === 'string' ? req.query.lang : undefined;
    return pickLanguage(account?.language ?? chosen, req.header('accept-language'));
  }

  const page =
    (name: Page, params: (req: Request) => Record<string, string> = () => ({})) =>
    async (req: Request, res: express.Response) => {
      res.type('html').send(shell(name, await languageOf(req), params(req)));
    };
  const notFoundPage = page('notFound');

  router.get('/', (req, res) => {
    res.redirect(readSession(deps.session, sessionToken(req)) ? '/contacts' : '/login');
  });
  router.get('/login', page('login'));
  router.get('/contacts', page('contacts'));
  router.get('/requests', page('requests'));
  router.get('/profile', page('profile'));
  router.get('/api-keys', page('apiKeys'));
  router.get('/webhooks', page('webhooks'));
  router.get('/validate/:id', (req, res, next) => {
    if (!/^\d{1,10}$/.test(String(req.params.id))) return next(); // a truncated mail link: the page below
    return page('validate', () => ({ taskId: String(req.params.id) }))(req, res);
  });
  router.get('/moves/:id', (req, res, next) => {
    if (!/^\d{1,10}$/.test(String(req.params.id))) return next();
    return page('move', () => ({ moveId: String(req.params.id) }))(req, res);
  });
  router.get('/validate-move/:id', (req, res, next) => {
    if (!/^\d{1,10}$/.test(String(req.params.id))) return next(); // a truncated mail link: the page below
    return page('validateMove', () => ({ moveId: String(req.params.id) }))(req, res);
  });
  router.get(
    '/credential/:token',
    page('credential', (req) => ({ token: String(req.params.token) })),
  );
  // Any other address a person's browser asks for (a mistyped or truncated link) gets the portal's own page,
  // in the person's language; the API's paths keep their JSON answers.
  router.get(/.*/, async (req, res, next) => {
    if (
      req.path.startsWith('/1.0/') ||
      req.path.startsWith('/auth/') ||
      !req.get('accept')?.includes('text/html')
    )
      return next(); // only a browser's page request: API clients keep the JSON 404
    res.status(404);
    return notFoundPage(req, res);
  });
  return router;
}
