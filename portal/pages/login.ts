import { html, nothing, render } from 'lit-html';
import { LANGUAGES, type PortalLanguage } from '../../api/portal/i18n';
import { announce, api, app, main, setTitle, t } from '../core';
import { field } from '../ui';
import { storedLink } from './task';

const LANGUAGE_NAMES: Record<PortalLanguage, string> = { es: 'Español', en: 'English', fr: 'Français' };

/** Only a path of this origin: never "//host" nor "/\host", which browsers read as another host. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/')) return '/contacts';
  const target = new URL(next, location.origin);
  return target.origin === location.origin ? target.pathname + target.search : '/contacts';
}

export function loginPage(): void {
  const query = new URLSearchParams(location.search);
  const next = query.get('next');
  const taskId = /^\/validate\/(\d+)$/.exec(next ?? '')?.[1];
  const moveId = /^\/validate-move\/(\d+)$/.exec(next ?? '')?.[1];
  const link = taskId
    ? storedLink(Number(taskId))
    : moveId
      ? storedLink(`move-${Number(moveId)}`)
      : undefined;
  let error = '';

  async function submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const values = new FormData(form);
    const response = await api('POST', '/auth/login', {
      handle: String(values.get('handle') ?? '').trim(),
      password: String(values.get('password') ?? ''),
    });
    if (response.ok) {
      location.href = safeNext(next);
      return;
    }
    error = response.status === 429 ? t('rateLimited') : t('badCredentials');
    draw();
    announce(error);
    form.querySelector<HTMLInputElement>('#password')?.focus();
  }

  const languageHref = (language: PortalLanguage) => {
    const target = new URLSearchParams(location.search);
    target.set('lang', language);
    return `/login?${target}`;
  };

  const draw = () =>
    render(
      html`<nav class="languages" aria-label=${t('languageChoice')}>
          <ul>
            ${LANGUAGES.map(
              (l) =>
                html`<li>
                  <a
                    href=${languageHref(l)}
                    lang=${l}
                    hreflang=${l}
                    aria-current=${l === app.language ? 'true' : nothing}
                    >${LANGUAGE_NAMES[l]}</a
                  >
                </li>`,
            )}
          </ul>
        </nav>
        <h1>${t('loginTitle')}</h1>
        ${
          taskId
            ? html`<p class="note">
                ${
                  link?.for
                    ? t('loginFromLink', { handle: link.for, id: taskId })
                    : t('loginFromLinkAnyone', { id: taskId })
                }
              </p>`
            : moveId
              ? html`<p class="note">
                  ${
                    link?.for
                      ? t('loginFromMoveLink', { handle: link.for, id: moveId })
                      : t('loginFromMoveLinkAnyone', { id: moveId })
                  }
                </p>`
              : nothing
        }
        <form novalidate @submit=${submit}>
          ${field(
            'handle',
            t('handle'),
            (a) =>
              html`<input
                id=${a.id}
                name="handle"
                autocomplete="username"
                required
                autocapitalize="none"
                spellcheck="false"
                .value=${link?.for ?? ''}
                aria-describedby=${a.describedBy}
              />`,
            { hint: t('handleHint') },
          )}
          ${field(
            'password',
            t('password'),
            (a) =>
              html`<input
                id=${a.id}
                name="password"
                type="password"
                autocomplete="current-password"
                required
                aria-describedby=${a.describedBy}
                aria-invalid=${a.invalid}
              />`,
            { error },
          )}
          <button type="submit">${t('loginButton')}</button>
        </form>`,
      main,
    );
  setTitle(t('loginTitle'));
  main.replaceChildren();
  draw();
  main.querySelector<HTMLInputElement>(link?.for ? '#password' : '#handle')?.focus();
}
