import { html, render } from 'lit-html';
import { announce, api, main, setTitle, t } from '../core';
import { field } from '../ui';

/** Only a path of this origin: never "//host" nor "/\host", which browsers read as another host. */
export function safeNext(next: string | null): string {
  if (!next) return '/contacts';
  const target = new URL(next, location.origin);
  return target.origin === location.origin && next.startsWith('/')
    ? target.pathname + target.search + target.hash
    : '/contacts';
}

export function loginPage(): void {
  const next = new URLSearchParams(location.search).get('next');
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

  const draw = () =>
    render(
      html`<h1>${t('loginTitle')}</h1>
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
  main.querySelector<HTMLInputElement>('#handle')?.focus();
}
