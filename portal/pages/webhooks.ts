import { html, nothing, render } from 'lit-html';
import type { z } from 'zod';
import type { TextKey } from '../../api/portal/i18n';
import type { webhookDeliveryResponse, webhookResponse, webhookSecretResponse } from '../../api/schemas';
import { api, data, errorText, focusOn, formatDate, hasText, main, setTitle, t } from '../core';
import { field, statusLine, type StatusKind } from '../ui';

type Webhook = z.infer<typeof webhookResponse>;
type WebhookWithSecret = z.infer<typeof webhookSecretResponse>;
type Delivery = z.infer<typeof webhookDeliveryResponse>;

const BASE = '/1.0/me/contactChange/webhook';

/** "contactChange.done" in words, or as the API names it when the portal has no words for it yet. */
function eventName(type: string): string {
  const key = `webhookEvent_${type.replace(/\W/g, '_')}`;
  return hasText(key) ? t(key) : type;
}

const deliveryState = (state: Delivery['state']) => t(`delivery_${state}` as TextKey);

/** A secret shown once (at creation or rotation): the receiver needs it to check signatures. */
interface ShownSecret {
  id: number;
  secret: string;
  rotated: boolean;
  previousValidUntil?: string;
}

/** Webhooks: subscribe URLs to contact-change events, see a secret once, rotate it, delete, read the delivery log. */
export async function webhooksPage(): Promise<void> {
  let webhooks: Webhook[] = [];
  let shown: ShownSecret | undefined;
  let urlError = '';
  let message = '';
  let kind: StatusKind = '';
  let confirmingDelete: number | undefined;
  /** The delivery log of each subscription whose log is open. */
  const logs = new Map<number, Delivery[] | 'loading'>();

  async function reload(): Promise<void> {
    const ids = await api<number[]>('GET', BASE);
    const items = ids.ok ? await Promise.all(ids.body.map((id) => api<Webhook>('GET', `${BASE}/${id}`))) : [];
    webhooks = items.flatMap((item) => (item.ok ? [item.body] : []));
    draw();
  }

  function say(text: string, how: StatusKind): void {
    message = text;
    kind = how;
    draw();
    focusOn('#webhooks-status');
  }

  async function create(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const values = new FormData(form);
    const url = String(values.get('url') ?? '').trim();
    const response = await api<WebhookWithSecret>('POST', BASE, {
      url,
      events: values.getAll('events').map(String),
      description: String(values.get('description') ?? '').trim(),
    });
    if (!response.ok) {
      urlError = url ? errorText(response.body) : t('webhookUrlHint');
      message = '';
      draw();
      focusOn('#webhook-url');
      return;
    }
    urlError = '';
    message = '';
    shown = { id: response.body.id, secret: response.body.secret, rotated: false };
    form.reset();
    await reload();
    focusOn('#webhook-secret');
  }

  async function rotate(webhook: Webhook): Promise<void> {
    const response = await api<WebhookWithSecret>('POST', `${BASE}/${webhook.id}/rotateSecret`);
    if (!response.ok) return say(errorText(response.body), 'error');
    shown = {
      id: webhook.id,
      secret: response.body.secret,
      rotated: true,
      previousValidUntil: response.body.previousSecretValidUntil,
    };
    message = '';
    await reload();
    focusOn('#webhook-secret');
  }

  async function remove(webhook: Webhook): Promise<void> {
    const response = await api('DELETE', `${BASE}/${webhook.id}`);
    confirmingDelete = undefined;
    if (shown?.id === webhook.id) shown = undefined;
    await reload();
    say(
      response.ok ? t('webhookDeleted', { url: webhook.url }) : errorText(response.body),
      response.ok ? 'success' : 'error',
    );
  }

  async function toggleLog(webhook: Webhook): Promise<void> {
    if (logs.has(webhook.id)) {
      logs.delete(webhook.id);
      draw();
      return;
    }
    logs.set(webhook.id, 'loading');
    draw();
    const response = await api<Delivery[]>('GET', `${BASE}/${webhook.id}/delivery`);
    logs.set(webhook.id, response.ok ? response.body : []);
    draw();
    focusOn(`#log-${webhook.id}`);
  }

  const secretBox = (secret: ShownSecret) =>
    html`<div id="webhook-secret" class="status success" role="status" tabindex="-1">
      <p>${t(secret.rotated ? 'webhookSecretRotated' : 'webhookCreated')}</p>
      <dl>
        <dt>${t('webhookSecret')}</dt>
        <dd><code>${secret.secret}</code></dd>
      </dl>
      ${
        secret.previousValidUntil
          ? html`<p>${t('webhookPreviousSecret', { until: formatDate(secret.previousValidUntil) })}</p>`
          : nothing
      }
    </div>`;

  const attemptText = (attempt: Delivery['attempts'][number]) =>
    t('deliveryAttempt', {
      attempt: attempt.attempt,
      date: formatDate(attempt.startedAt),
      result: attempt.statusCode !== undefined ? `HTTP ${attempt.statusCode}` : (attempt.error ?? ''),
      ms: attempt.durationMs,
    });

  const deliveryLog = (webhook: Webhook) => {
    const log = logs.get(webhook.id);
    if (log === undefined) return nothing;
    if (log === 'loading') return html`<p class="loading">…</p>`;
    return html`<div id="log-${webhook.id}" tabindex="-1" class="table-box">
      ${
        log.length === 0
          ? html`<p>${t('noDeliveries')}</p>`
          : html`<table>
              <caption>
                ${t('deliveryLogOf', { url: webhook.url })}
              </caption>
              <thead>
                <tr>
                  <th scope="col">${t('deliveryEvent')}</th>
                  <th scope="col">${t('deliveryState')}</th>
                  <th scope="col">${t('deliveryDate')}</th>
                  <th scope="col">${t('deliveryAttempts')}</th>
                </tr>
              </thead>
              <tbody>
                ${log.map(
                  (d) =>
                    html`<tr class="delivery">
                      <th scope="row" data-label=${t('deliveryEvent')}>${eventName(d.eventType)}</th>
                      <td data-label=${t('deliveryState')}>${deliveryState(d.state)}</td>
                      <td data-label=${t('deliveryDate')}>${formatDate(d.createdAt)}</td>
                      <td data-label=${t('deliveryAttempts')}>
                        <ol class="attempts">
                          ${d.attempts.map((a) => html`<li>${attemptText(a)}</li>`)}
                        </ol>
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </div>`;
  };

  const webhookItem = (webhook: Webhook) => {
    const titleId = `webhook-${webhook.id}`;
    return html`<li class="webhook" aria-labelledby=${titleId}>
      <h3 id=${titleId}><code>${webhook.url}</code></h3>
      ${shown?.id === webhook.id ? secretBox(shown) : nothing}
      <dl>
        ${
          webhook.description
            ? html`<dt>${t('appDescription')}</dt>
                <dd>${webhook.description}</dd>`
            : nothing
        }
        <dt>${t('webhookEvents')}</dt>
        <dd>${webhook.events.length ? webhook.events.map(eventName).join(', ') : t('webhookAllEvents')}</dd>
        <dt>${t('webhookCreatedOn')}</dt>
        <dd>${formatDate(webhook.createdAt)}</dd>
        <dt>${t('keyStatus')}</dt>
        <dd>${t(webhook.enabled ? 'webhookEnabled' : 'webhookDisabled')}</dd>
      </dl>
      ${
        confirmingDelete === webhook.id
          ? html`<div class="confirm">
              <p id="confirm-delete-${webhook.id}" tabindex="-1">
                ${t('confirmDeleteWebhook', { url: webhook.url })}
              </p>
              <div class="buttons">
                <button type="button" class="danger" @click=${() => remove(webhook)}>
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
          : html`<div class="buttons">
              <button
                type="button"
                class="secondary"
                aria-expanded=${String(logs.has(webhook.id))}
                @click=${() => toggleLog(webhook)}
              >
                ${t('deliveryLog')}
              </button>
              <button type="button" class="secondary" @click=${() => rotate(webhook)}>
                ${t('rotateSecret')}
              </button>
              <button
                type="button"
                class="secondary"
                @click=${() => {
                  confirmingDelete = webhook.id;
                  draw();
                  focusOn(`#confirm-delete-${webhook.id}`);
                }}
              >
                ${t('deleteWebhook')}
              </button>
            </div>`
      }
      ${deliveryLog(webhook)}
    </li>`;
  };

  const draw = () =>
    render(
      html`<h1 tabindex="-1">${t('webhooksTitle')}</h1>
        <p>${t('webhooksIntro')}</p>
        <div id="webhooks-status" tabindex="-1">${statusLine(message, kind)}</div>
        <section aria-labelledby="new-webhook-title">
          <h2 id="new-webhook-title">${t('newWebhookTitle')}</h2>
          <form novalidate @submit=${create}>
            ${field(
              'webhook-url',
              t('webhookUrl'),
              (a) =>
                html`<input
                  id=${a.id}
                  name="url"
                  type="url"
                  inputmode="url"
                  maxlength="2000"
                  required
                  spellcheck="false"
                  aria-describedby=${a.describedBy}
                  aria-invalid=${a.invalid}
                />`,
              { hint: t('webhookUrlHint'), error: urlError },
            )}
            ${field(
              'webhook-description',
              t('appDescription'),
              (a) => html`<input id=${a.id} name="description" maxlength="200" />`,
            )}
            <fieldset class="events">
              <legend>${t('webhookEvents')}</legend>
              <p class="hint" id="events-hint">${t('webhookEventsHint')}</p>
              ${data.webhookEvents.map(
                (type) =>
                  html`<label class="check">
                    <input type="checkbox" name="events" value=${type} aria-describedby="events-hint" />
                    ${eventName(type)}
                  </label>`,
              )}
            </fieldset>
            <button type="submit">${t('createWebhook')}</button>
          </form>
        </section>
        <section aria-labelledby="webhooks-list-title">
          <h2 id="webhooks-list-title">${t('webhooksListTitle')}</h2>
          ${
            webhooks.length
              ? html`<ul class="webhooks">
                  ${webhooks.map(webhookItem)}
                </ul>`
              : html`<p>${t('noWebhooks')}</p>`
          }
        </section>`,
      main,
    );
  setTitle(t('webhooksTitle'));
  main.replaceChildren();
  draw();
  await reload();
}
