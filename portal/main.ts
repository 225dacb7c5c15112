import { html, render } from 'lit-html';
import type { PortalPage } from '../api/portal/page-data';
import { api, app, data, main, setLanguage, t, type Session } from './core';
import { renderHeader } from './header';
import { contactsPage } from './pages/contacts';
import { credentialPage } from './pages/credential';
import { loginPage } from './pages/login';
import { profilePage } from './pages/profile';
import { requestsPage } from './pages/requests';
import { storeCode } from './pages/task';
import { validatePage } from './pages/validate';

const PAGES: Record<PortalPage, () => void | Promise<void>> = {
  login: loginPage,
  contacts: contactsPage,
  requests: requestsPage,
  validate: validatePage,
  profile: profilePage,
  credential: credentialPage,
  notFound: () => {
    render(html`<h1>${t('notFound')}</h1>`, main);
  },
};

/** A mail's link carries the code in the fragment: kept for this tab only, and taken out of the address bar. */
function keepCodeFromLink(): void {
  const code = new URLSearchParams(location.hash.slice(1)).get('code');
  if (data.page !== 'validate' || !code) return;
  storeCode(Number(data.params.taskId), code);
  history.replaceState(null, '', location.pathname);
}

async function start(): Promise<void> {
  keepCodeFromLink();
  const current = await api<Session>('GET', '/auth/session');
  app.session = current.ok ? current.body : null;
  if (app.session && app.session.language !== app.language) setLanguage(app.session.language);
  if (!app.session && data.page !== 'login' && data.page !== 'notFound') {
    location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
    return;
  }
  renderHeader();
  await PAGES[data.page]();
  document.body.classList.add('ready');
}

start().catch(() => {
  main.replaceChildren();
  render(html`<p class="status error" role="alert">${t('genericError')}</p>`, main);
});
