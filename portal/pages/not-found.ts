import { html, render } from 'lit-html';
import { app, main, setTitle, t } from '../core';

/** A mistyped or truncated address: said in the person's language, with a way back. */
export function notFoundPage(): void {
  setTitle(t('notFound'));
  main.replaceChildren();
  render(
    html`<h1 tabindex="-1">${t('notFound')}</h1>
      <p>${t('notFoundHint')}</p>
      <p>
        <a href=${app.session ? '/contacts' : '/login'}>${app.session ? t('goHome') : t('loginButton')}</a>
      </p>`,
    main,
  );
}
