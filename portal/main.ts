import { html, render } from 'lit-html';
import type { PortalPage } from '../api/portal/page-data';
import { api, app, data, focusOn, main, setLanguage, t, type Session } from './core';
import { renderHeader } from './header';
import { contactsPage } from './pages/contacts';
import { apiKeysPage } from './pages/api-keys';
import { consentPage } from './pages/consent';
import { loginPage } from './pages/login';
import { notFoundPage } from './pages/not-found';
import { profilePage } from './pages/profile';
import { requestsPage } from './pages/requests';
import { storeLink } from './pages/task';
import { validatePage } from './pages/validate';
import { webhooksPage } from './pages/webhooks';
import { movePage, validateMovePage } from './pages/moves';

const PAGES: Record<PortalPage, () => void | Promise<void>> = {
  login: loginPage,
  contacts: contactsPage,
  requests: requestsPage,
  validate: validatePage,
  profile: profilePage,
  credential: consentPage,
  apiKeys: apiKeysPage,
  webhooks: webhooksPage,
  move: movePage,
  validateMove: validateMovePage,
  notFound: notFoundPage,
};

/**
 * A mail's link carries its code (and whom it is for) in the fragment: kept for this tab, out of the address bar.
 * Answers whether there was one.
 */
function keepMailLink(): boolean {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const code = fragment.get('code');
  if (!code || (data.page !== 'validate' && data.page !== 'validateMove')) return false;
  const link = { code, for: fragment.get('for') ?? undefined };
  if (data.page === 'validate') storeLink(Number(data.params.taskId), link);
  else storeLink(`move-${Number(data.params.moveId)}`, link);
  history.replaceState(null, '', location.pathname);
  return true;
}

// A newer mail's link opened in this very tab changes only the fragment: start the page again with its code.
window.addEventListener('hashchange', () => {
  if (keepMailLink()) location.reload();
});

async function start(): Promise<void> {
  keepMailLink();
  const current = await api<Session>('GET', '/auth/session');
  app.session = current.ok ? current.body : null;
  if (app.session && app.session.language !== app.language) setLanguage(app.session.language);
  if (!app.session && data.page !== 'login' && data.page !== 'notFound') {
    location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    return;
  }
  renderHeader();
  const loaded = PAGES[data.page]();
  // A new page starts at its heading, for keyboard and screen-reader users (the login page at its first field).
  if (data.page !== 'login' && (document.activeElement === document.body || !document.activeElement))
    focusOn('main h1');
  await loaded;
  document.body.classList.add('ready');
}

start().catch(() => {
  main.replaceChildren();
  render(html`<p class="status error" role="alert">${t('genericError')}</p>`, main);
});
