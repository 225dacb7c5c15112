import { html, nothing, type TemplateResult } from 'lit-html';
import type { z } from 'zod';
import type { decisionResponse, taskResponse } from '../../api/schemas';
import type { TextKey } from '../../api/portal/i18n';
import { announce, api, app, errorText, formatDate, hasText, roleName, t } from '../core';
import { field, statusLine, type StatusKind } from '../ui';

export type TaskResponse = z.infer<typeof taskResponse>;
type DecisionResponse = z.infer<typeof decisionResponse>;

/** One request as a card, with what its reader may do; the page redraws after each change. */
export interface TaskCard {
  task: TaskResponse;
  code: string;
  codeError: string;
  message: string;
  kind: StatusKind;
}

export const newCard = (task: TaskResponse, code = ''): TaskCard => ({
  task,
  code,
  codeError: '',
  message: '',
  kind: '',
});

const VALIDATOR_TEXT: Record<TaskResponse['validators'][number]['status'], TextKey> = {
  accepted: 'validatorAccepted',
  refused: 'validatorRefused',
  pending: 'validatorPending',
};

const codeKey = (id: number) => `code:${id}`;
export const storedCode = (id: number) => sessionStorage.getItem(codeKey(id)) ?? '';
export const storeCode = (id: number, code: string) => sessionStorage.setItem(codeKey(id), code);

export function taskCardView(
  card: TaskCard,
  redraw: () => void,
  headingLevel: 'h1' | 'h2' = 'h2',
): TemplateResult {
  const { task } = card;
  const me = app.session?.nichandle;
  const mine = task.validators.find((v) => v.handle === me);
  const open = task.open;
  const path = `/1.0/me/task/contactChange/${task.id}`;

  const show = (message: string, kind: StatusKind) => {
    card.message = message;
    card.kind = kind;
    redraw();
  };

  async function decide(decision: 'accept' | 'refuse', form: HTMLFormElement): Promise<void> {
    const token = String(new FormData(form).get('token') ?? '').trim();
    card.code = token;
    card.codeError = '';
    const response = await api<DecisionResponse>('POST', `${path}/${decision}`, { token });
    if (!response.ok) {
      card.codeError = errorText(response.body);
      redraw();
      announce(card.codeError);
      form.querySelector<HTMLInputElement>('input[name="token"]')?.focus();
      return;
    }
    sessionStorage.removeItem(codeKey(task.id));
    card.task = response.body.task;
    card.code = '';
    show(t(decision === 'accept' ? 'accepted' : 'refusedDone'), 'success');
  }

  async function resend(): Promise<void> {
    const response = await api<{ resentTo: string[] }>('POST', `${path}/resendEmail`);
    if (response.ok) show(t('resent', { handles: response.body.resentTo.join(', ') }), 'success');
    else show(errorText(response.body), 'error');
  }

  async function cancel(): Promise<void> {
    const response = await api<TaskResponse>('POST', `${path}/cancel`);
    if (response.ok) {
      card.task = response.body;
      show(t('cancelled'), 'success');
    } else show(errorText(response.body), 'error');
  }

  const rows: [TextKey, string][] = [
    ['service', `${task.serviceDomain ?? ''} (${task.serviceType})`],
    [
      'change',
      t('changeText', {
        roles: task.contactTypes.map(roleName).join(', '),
        from: task.fromAccount,
        to: task.toAccount,
      }),
    ],
    ['askedBy', task.askingAccount ?? ''],
    [
      'state',
      t(`state_${task.state}`) +
        (task.reason && hasText(`reason_${task.reason}`)
          ? ` — ${t(`reason_${task.reason}` as TextKey)}`
          : ''),
    ],
    ['requestedOn', formatDate(task.dateRequest)],
    task.dateDone ? ['doneOn', formatDate(task.dateDone)] : ['expiresOn', formatDate(task.expiresAt)],
  ];
  const headingId = `task-${task.id}`;
  const heading =
    headingLevel === 'h1'
      ? html`<h1 id=${headingId}>${t('request', { id: task.id })}</h1>`
      : html`<h2 id=${headingId}>${t('request', { id: task.id })}</h2>`;
  const canResend = open && (mine?.status === 'pending' || task.askingAccount === me);
  const canCancel = task.canCancel;

  return html`<article class="task" aria-labelledby=${headingId}>
    ${heading}
    <dl>
      ${rows.map(
        ([key, value]) =>
          html`<dt>${t(key)}</dt>
            <dd>${value}</dd>`,
      )}
    </dl>
    <h3>${t('validators')}</h3>
    <ul class="validators">
      ${task.validators.map((v) => html`<li class=${v.status}>${t(VALIDATOR_TEXT[v.status], { handle: v.handle })}</li>`)}
    </ul>
    ${
      open && mine?.status === 'accepted' && task.awaiting.length > 0
        ? html`<p class="note">${t('waitingForOther')}</p>`
        : nothing
    }
    ${
      open && mine?.status === 'pending'
        ? html`<form
            class="decision"
            novalidate
            @submit=${(e: SubmitEvent) => {
              e.preventDefault();
              void decide('accept', e.target as HTMLFormElement);
            }}
          >
            <p class="note">${t('waitingForYou')}</p>
            ${field(
              `token-${task.id}`,
              t('code'),
              (a) =>
                html`<input
                  id=${a.id}
                  name="token"
                  .value=${card.code}
                  autocomplete="one-time-code"
                  autocapitalize="characters"
                  spellcheck="false"
                  required
                  aria-describedby=${a.describedBy}
                  aria-invalid=${a.invalid}
                />`,
              { hint: t('codeHint'), error: card.codeError },
            )}
            <div class="buttons">
              <button type="submit">${t('accept')}</button>
              <button
                type="button"
                class="danger"
                @click=${(e: Event) =>
                  decide('refuse', (e.target as HTMLElement).closest('form') as HTMLFormElement)}
              >
                ${t('refuse')}
              </button>
            </div>
          </form>`
        : nothing
    }
    ${
      canResend || canCancel
        ? html`<div class="buttons">
            ${
              canResend
                ? html`<button type="button" class="secondary" @click=${resend}>${t('resend')}</button>`
                : nothing
            }
            ${
              canCancel
                ? html`<button type="button" class="secondary" @click=${cancel}>
                    ${t('cancelRequest')}
                  </button>`
                : nothing
            }
          </div>`
        : nothing
    }
    ${statusLine(card.message, card.kind)}
  </article>`;
}
