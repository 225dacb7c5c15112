import { html, nothing, render } from 'lit-html';
import type { TextKey } from '../api/portal/i18n';
import type { PortalPage } from '../api/portal/page-data';
import { api, app, data, t } from './core';

const MENU: [href: string, text: TextKey, page: PortalPage][] = [
  ['/contacts', 'menuContacts', 'contacts'],
  ['/requests', 'menuRequests', 'requests'],
  ['/profile', 'menuProfile', 'profile'],
  ['/api-keys', 'menuApi', 'apiKeys'],
  ['/webhooks', 'menuWebhooks', 'webhooks'],
];

async function logout(): Promise<void> {
  await api('POST', '/auth/logout');
  location.href = '/login';
}

export function renderHeader(): void {
  const session = app.session;
  render(
    html`<div class="brand">${t('appName')}</div>
      ${
        session
          ? html`<nav aria-label=${t('appName')}>
              <ul>
                ${MENU.map(
                  ([href, key, page]) =>
                    html`<li>
                      <a href=${href} aria-current=${data.page === page ? 'page' : nothing}>${t(key)}</a>
                    </li>`,
                )}
              </ul>
              <span class="account">${session.nichandle}</span>
              <button type="button" class="link" @click=${logout}>${t('logout')}</button>
            </nav>`
          : nothing
      }`,
    document.getElementById('header') as HTMLElement,
  );
}
