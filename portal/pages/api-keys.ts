import { html, nothing, render } from 'lit-html';
import type { z } from 'zod';
import type { applicationResponse, credentialResponse, newApplicationResponse } from '../../api/schemas';
import { api, errorText, focusOn, formatDate, main, setTitle, t } from '../core';
import { ruleInWords } from '../rules';
import { field, statusLine, type StatusKind } from '../ui';

type Application = z.infer<typeof applicationResponse>;
type NewApplication = z.infer<typeof newApplicationResponse>;
type Credential = z.infer<typeof credentialResponse>;

async function listOf<T>(path: string): Promise<T[]> {
  const ids = await api<number[]>('GET', path);
  if (!ids.ok) return [];
  const items = await Promise.all(ids.body.map((id) => api<T>('GET', `${path}/${id}`)));
  return items.flatMap((item) => (item.ok ? [item.body] : []));
}

/** The provider's "API keys" page: create an application, see and revoke applications and consumer keys. */
export async function apiKeysPage(): Promise<void> {
  let applications: Application[] = [];
  let credentials: Credential[] = [];
  let created: NewApplication | undefined;
  let nameError = '';
  let message = '';
  let kind: StatusKind = '';
  let confirmingDelete: number | undefined;

  async function reload(): Promise<void> {
    [applications, credentials] = await Promise.all([
      listOf<Application>('/1.0/me/api/application'),
      listOf<Credential>('/1.0/me/api/credential'),
    ]);
    draw();
  }

  function say(text: string, how: StatusKind): void {
    message = text;
    kind = how;
    draw();
    focusOn('#api-status');
  }

  async function create(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const values = new FormData(form);
    const name = String(values.get('name') ?? '').trim();
    nameError = name ? '' : t('error_invalidInput');
    if (nameError) {
      draw();
      focusOn('#app-name');
      return;
    }
    const response = await api<NewApplication>('POST', '/1.0/me/api/application', {
      name,
      description: String(values.get('description') ?? '').trim(),
    });
    if (!response.ok) return say(errorText(response.body), 'error');
    created = response.body;
    form.reset();
    await reload();
    focusOn('#app-created');
  }

  async function deleteApplication(application: Application): Promise<void> {
    const response = await api('DELETE', `/1.0/me/api/application/${application.applicationId}`);
    confirmingDelete = undefined;
    await reload();
    say(response.ok ? t('appDeleted') : errorText(response.body), response.ok ? 'success' : 'error');
  }

  async function revoke(credential: Credential): Promise<void> {
    const response = await api('DELETE', `/1.0/me/api/credential/${credential.credentialId}`);
    await reload();
    say(
      response.ok ? t('keyRevoked', { id: credential.credentialId }) : errorText(response.body),
      response.ok ? 'success' : 'error',
    );
  }

  const appName = (id: number) => applications.find((a) => a.applicationId === id)?.name ?? `#${id}`;

  const applicationItem = (application: Application) =>
    html`<li>
      <strong>${application.name}</strong> <code>${application.applicationKey}</code>
      ${application.description ? html`<span class="hint">— ${application.description}</span>` : nothing}
      ${
        confirmingDelete === application.applicationId
          ? html`<div class="confirm">
              <p id="confirm-delete" tabindex="-1">${t('confirmDeleteApp', { name: application.name })}</p>
              <div class="buttons">
                <button type="button" class="danger" @click=${() => deleteApplication(application)}>
                  ${t('yesDelete')}
                </button>
                <button
                  type="button"
                  class="secondary"
                  @click=${() => {
                    confirmingDelete = undefined;
                    draw();
                  }}
                >
                  ${t('keepIt')}
                </button>
              </div>
            </div>`
          : html`<button
              type="button"
              class="secondary"
              @click=${() => {
                confirmingDelete = application.applicationId;
                draw();
                focusOn('#confirm-delete');
              }}
            >
              ${t('deleteApp', { name: application.name })}
            </button>`
      }
    </li>`;

  const credentialItem = (credential: Credential) =>
    html`<li class="key">
      <h3>${t('keyLine', { id: credential.credentialId, app: appName(credential.applicationId) })}</h3>
      <dl>
        <dt>${t('keyStatus')}</dt>
        <dd>${t(`status_${credential.status}`)}</dd>
        <dt>${t('keyRules')}</dt>
        <dd>${credential.rules.map(ruleInWords).join('; ')}</dd>
        <dt>${t('keyExpires')}</dt>
        <dd>${credential.expiration ? formatDate(credential.expiration) : t('keyNoEnd')}</dd>
        <dt>${t('keyLastUse')}</dt>
        <dd>${credential.lastUse ? formatDate(credential.lastUse) : t('keyNeverUsed')}</dd>
      </dl>
      <button type="button" class="secondary" @click=${() => revoke(credential)}>
        ${t('revokeKey', { id: credential.credentialId })}
      </button>
    </li>`;

  const draw = () =>
    render(
      html`<h1 tabindex="-1">${t('apiTitle')}</h1>
        <p>${t('apiIntro')}</p>
        <div id="api-status" tabindex="-1">${statusLine(message, kind)}</div>
        <section aria-labelledby="new-app-title">
          <h2 id="new-app-title">${t('newAppTitle')}</h2>
          ${
            created
              ? html`<div id="app-created" class="status success" role="status" tabindex="-1">
                  <p>${t('appCreated')}</p>
                  <dl>
                    <dt>${t('appKey')}</dt>
                    <dd><code>${created.applicationKey}</code></dd>
                    <dt>${t('appSecret')}</dt>
                    <dd><code>${created.applicationSecret}</code></dd>
                  </dl>
                </div>`
              : nothing
          }
          <form novalidate @submit=${create}>
            ${field(
              'app-name',
              t('applicationName'),
              (a) =>
                html`<input
                  id=${a.id}
                  name="name"
                  maxlength="100"
                  required
                  aria-describedby=${a.describedBy}
                  aria-invalid=${a.invalid}
                />`,
              { error: nameError },
            )}
            ${field(
              'app-description',
              t('appDescription'),
              (a) => html`<input id=${a.id} name="description" maxlength="500" />`,
            )}
            <button type="submit">${t('createApp')}</button>
          </form>
        </section>
        <section aria-labelledby="apps-title">
          <h2 id="apps-title">${t('applicationsTitle')}</h2>
          ${
            applications.length
              ? html`<ul class="applications">
                  ${applications.map(applicationItem)}
                </ul>`
              : html`<p>${t('noApplications')}</p>`
          }
        </section>
        <section aria-labelledby="keys-title">
          <h2 id="keys-title">${t('keysTitle')}</h2>
          ${
            credentials.length
              ? html`<ul class="keys">
                  ${credentials.map(credentialItem)}
                </ul>`
              : html`<p>${t('noKeys')}</p>`
          }
        </section>`,
      main,
    );
  setTitle(t('apiTitle'));
  main.replaceChildren();
  draw();
  await reload();
}
