import { html, nothing, render } from 'lit-html';
import { LANGUAGES, type PortalLanguage } from '../../api/portal/i18n';
import {
  announce,
  api,
  app,
  errorText,
  focusOn,
  main,
  setLanguage,
  setTitle,
  t,
  type Session,
} from '../core';
import { renderHeader } from '../header';
import { field, statusLine, type StatusKind } from '../ui';

type Me = Omit<Session, 'csrfToken'>;

const LANGUAGE_NAMES: Record<PortalLanguage, string> = { es: 'Español', en: 'English', fr: 'Français' };

/** The link mailed to a new address: `/profile#confirmEmail=<token>`, confirmed from this logged-in browser. */
async function confirmEmailFromLink(): Promise<{ message: string; kind: StatusKind } | undefined> {
  const token = new URLSearchParams(location.hash.slice(1)).get('confirmEmail');
  if (!token) return undefined;
  history.replaceState(null, '', location.pathname);
  const response = await api<Omit<Session, 'csrfToken'>>('POST', '/1.0/me/email/confirm', { token });
  if (!response.ok) return { message: errorText(response.body), kind: 'error' };
  app.session = { ...(app.session as Session), ...response.body };
  return { message: t('emailConfirmed', { email: response.body.email }), kind: 'success' };
}

export async function profilePage(): Promise<void> {
  const session = app.session as Session;
  let emailError = '';
  let message = '';
  let kind: StatusKind = '';
  let pendingEmail = '';

  async function submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const values = new FormData(form);
    const response = await api<Me>('PUT', '/1.0/me', {
      email: String(values.get('email') ?? '').trim(),
      language: String(values.get('language') ?? ''),
    });
    emailError = '';
    message = '';
    if (!response.ok) {
      emailError = errorText(response.body);
      draw();
      announce(emailError);
      form.querySelector<HTMLInputElement>('#email')?.focus();
      return;
    }
    const { pendingEmail: pending, ...me } = response.body;
    app.session = { ...session, ...me };
    pendingEmail = pending ?? pendingEmail;
    if (response.body.language !== app.language) {
      setLanguage(response.body.language);
      renderHeader();
      setTitle(t('profileTitle'));
    }
    message = t('saved');
    kind = 'success';
    draw();
  }

  function say(text: string, how: StatusKind): void {
    message = text;
    kind = how;
    draw();
    focusOn('#profile-status');
  }

  /** A new link to the address waiting for confirmation (the earlier link stops working). */
  async function sendLinkAgain(): Promise<void> {
    const response = await api<Me>('PUT', '/1.0/me', { email: pendingEmail });
    if (response.ok) say(t('emailPendingResent', { pending: pendingEmail }), 'success');
    else say(errorText(response.body), 'error');
  }

  async function cancelPending(): Promise<void> {
    const response = await api('DELETE', '/1.0/me/email/pending');
    if (!response.ok) return say(errorText(response.body), 'error');
    const cancelled = pendingEmail;
    pendingEmail = '';
    say(t('emailPendingCancelled', { pending: cancelled, email: app.session?.email }), 'success');
  }

  const draw = () => {
    const current = app.session as Session;
    render(
      html`<h1 tabindex="-1">${t('profileTitle')}</h1>
        <p>${t('profileIntro')}</p>
        <form novalidate @submit=${submit}>
          ${field(
            'email',
            t('email'),
            (a) =>
              html`<input
                id=${a.id}
                name="email"
                type="email"
                autocomplete="email"
                .value=${current.email}
                required
                aria-describedby=${a.describedBy}
                aria-invalid=${a.invalid}
              />`,
            { error: emailError },
          )}
          ${field(
            'language',
            t('language'),
            (a) =>
              html`<select id=${a.id} name="language">
                ${LANGUAGES.map(
                  (l) =>
                    html`<option value=${l} ?selected=${current.language === l} lang=${l}>
                      ${LANGUAGE_NAMES[l]}
                    </option>`,
                )}
              </select>`,
          )}
          ${
            pendingEmail
              ? html`<div class="note" role="group" aria-labelledby="email-pending">
                  <p id="email-pending">
                    ${t('emailPending', { pending: pendingEmail, email: current.email })}
                  </p>
                  <div class="buttons">
                    <button type="button" class="secondary" @click=${sendLinkAgain}>
                      ${t('emailPendingResend', { pending: pendingEmail })}
                    </button>
                    <button type="button" class="secondary" @click=${cancelPending}>
                      ${t('emailPendingCancel')}
                    </button>
                  </div>
                </div>`
              : nothing
          }
          <div id="profile-status" tabindex="-1">${statusLine(message, kind)}</div>
          <button type="submit">${t('save')}</button>
        </form>`,
      main,
    );
  };
  setTitle(t('profileTitle'));
  main.replaceChildren();
  draw();
  const me = await api<Me>('GET', '/1.0/me');
  if (me.ok && me.body.pendingEmail) {
    pendingEmail = me.body.pendingEmail;
    draw();
  }
  const confirmFromLink = async () => {
    const confirmed = await confirmEmailFromLink();
    if (!confirmed) return;
    ({ message, kind } = confirmed);
    pendingEmail = '';
    draw();
  };
  // The link may also be opened in this very tab, where only the fragment changes.
  window.addEventListener('hashchange', () => void confirmFromLink());
  await confirmFromLink();
}
