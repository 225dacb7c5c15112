import { html, nothing, render } from 'lit-html';
import type { z } from 'zod';
import type { credentialDecisionResponse, credentialRequestResponse } from '../../api/schemas';
import { api, data, errorText, focusOn, main, setTitle, t } from '../core';
import { ruleInWords } from '../rules';
import { field, statusLine, type StatusKind } from '../ui';

type CredentialRequest = z.infer<typeof credentialRequestResponse>;
type Decision = z.infer<typeof credentialDecisionResponse>;

/**
 * The consent page of a script's consumer key: the application by name, each access rule in words, where the
 * browser goes afterwards, and for how long; the redirection comes from the stored request, never this URL.
 */
export async function consentPage(): Promise<void> {
  const path = `/1.0/auth/credential/${encodeURIComponent(data.params.token)}`;
  let request: CredentialRequest | undefined;
  let message = '';
  let kind: StatusKind = '';
  let answered = false;

  async function answer(decision: 'validate' | 'refuse', form: HTMLFormElement): Promise<void> {
    const validity = String(new FormData(form).get('validity') ?? '1d');
    const response = await api<Decision>(
      'POST',
      `${path}/${decision}`,
      decision === 'validate' ? { validity } : {},
    );
    answered = response.ok;
    message = response.ok ? t(decision === 'validate' ? 'allowed' : 'refusedApp') : errorText(response.body);
    kind = response.ok ? 'success' : 'error';
    draw();
    focusOn('#consent-status');
    if (response.ok && decision === 'validate' && response.body.redirection)
      location.href = response.body.redirection;
  }

  const details = (r: CredentialRequest) =>
    html`<p>${t('credentialAsk', { name: r.application.name })}</p>
      ${r.application.description ? html`<p class="hint">${r.application.description}</p>` : nothing}
      <h2>${t('credentialRules')}</h2>
      <ul class="rules">
        ${r.accessRules.map((rule) => html`<li>${ruleInWords(rule)} <code>${rule.method} ${rule.path}</code></li>`)}
      </ul>
      <p class="note">
        ${r.redirectionHost ? t('credentialRedirect', { host: r.redirectionHost }) : t('credentialNoRedirect')}
      </p>
      ${
        answered
          ? nothing
          : html`<form novalidate @submit=${(e: SubmitEvent) => e.preventDefault()}>
              <fieldset>
                <legend>${t('credentialValidity')}</legend>
                ${r.validities.map((v) =>
                  field(
                    `validity-${v}`,
                    t(`validity_${v}`),
                    (a) =>
                      html`<input
                        id=${a.id}
                        type="radio"
                        name="validity"
                        value=${v}
                        ?checked=${v === '1d'}
                      />`,
                  ),
                )}
              </fieldset>
              <div class="buttons">
                <button
                  type="button"
                  @click=${(e: Event) => answer('validate', (e.target as HTMLElement).closest('form')!)}
                >
                  ${t('allow')}
                </button>
                <button
                  type="button"
                  class="secondary"
                  @click=${(e: Event) => answer('refuse', (e.target as HTMLElement).closest('form')!)}
                >
                  ${t('refuseApp')}
                </button>
              </div>
            </form>`
      }`;

  const draw = () =>
    render(
      html`<h1 tabindex="-1">${t('credentialTitle')}</h1>
        ${request ? details(request) : nothing}
        <div id="consent-status" tabindex="-1">${statusLine(message, kind)}</div>`,
      main,
    );
  setTitle(t('credentialTitle'));
  main.replaceChildren();
  draw();
  const response = await api<CredentialRequest>('GET', path);
  if (response.ok) request = response.body;
  else {
    message = errorText(response.body);
    kind = 'error';
  }
  draw();
}
