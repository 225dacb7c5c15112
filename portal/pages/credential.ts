import { html, render } from 'lit-html';
import { api, data, errorText, main, setTitle, t } from '../core';
import { statusLine, type StatusKind } from '../ui';

/** Approving a script's consumer key. */
export function credentialPage(): void {
  let message = '';
  let kind: StatusKind = '';

  async function allow(): Promise<void> {
    const response = await api('POST', `/auth/credential/${encodeURIComponent(data.params.token)}/validate`);
    message = response.ok ? t('allowed') : errorText(response.body);
    kind = response.ok ? 'success' : 'error';
    draw();
    const redirection = new URLSearchParams(location.search).get('redirection');
    if (response.ok && redirection && /^https?:\/\//.test(redirection)) location.href = redirection;
  }

  const draw = () =>
    render(
      html`<h1>${t('credentialTitle')}</h1>
        <p>${t('credentialIntro')}</p>
        ${statusLine(message, kind)}
        <button type="button" @click=${allow}>${t('allow')}</button>`,
      main,
    );
  setTitle(t('credentialTitle'));
  main.replaceChildren();
  draw();
}
