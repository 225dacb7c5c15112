import { html, render } from 'lit-html';
import { LANGUAGES, type PortalLanguage } from '../../api/portal/i18n';
import { announce, api, app, errorText, main, setLanguage, setTitle, t, type Session } from '../core';
import { renderHeader } from '../header';
import { field, statusLine, type StatusKind } from '../ui';

const LANGUAGE_NAMES: Record<PortalLanguage, string> = { es: 'Español', en: 'English', fr: 'Français' };

export function profilePage(): void {
  const session = app.session as Session;
  let emailError = '';
  let message = '';
  let kind: StatusKind = '';

  async function submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const values = new FormData(form);
    const response = await api<Omit<Session, 'csrfToken'>>('PUT', '/1.0/me', {
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
    app.session = { ...session, ...response.body };
    if (response.body.language !== app.language) {
      setLanguage(response.body.language);
      renderHeader();
      setTitle(t('profileTitle'));
    }
    message = t('saved');
    kind = 'success';
    draw();
  }

  const draw = () => {
    const current = app.session as Session;
    render(
      html`<h1>${t('profileTitle')}</h1>
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
          ${statusLine(message, kind)}
          <button type="submit">${t('save')}</button>
        </form>`,
      main,
    );
  };
  setTitle(t('profileTitle'));
  main.replaceChildren();
  draw();
}
