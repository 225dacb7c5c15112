import { html, nothing, type TemplateResult } from 'lit-html';
import type { z } from 'zod';
import type { decisionResponse, resendResponse, taskResponse } from '../../api/schemas';
import type { TextKey } from '../../api/portal/i18n';
import {
  announce,
  api,
  app,
  errorText,
  focusOn,
  formatDate,
  hasText,
  roleName,
  serviceTypeName,
  t,
} from '../core';
import { field, type StatusKind } from '../ui';

export type TaskResponse = z.infer<typeof taskResponse>;
type DecisionResponse = z.infer<typeof decisionResponse>;
type ResendResponse = z.infer<typeof resendResponse>;
type Confirming = 'refuse' | 'cancel' | undefined;

/** One request as a card, with what its reader may do; the page redraws after each change. */
export interface TaskCard {
  task: TaskResponse;
  code: string;
  codeError: string;
  message: string;
  kind: StatusKind;
  confirming: Confirming;
  /** A followWhileSettling of this card is running: one is enough. */
  following: boolean;
}

export const newCard = (task: TaskResponse, code = ''): TaskCard => ({
  task,
  code,
  codeError: '',
  message: '',
  kind: '',
  confirming: undefined,
  following: false,
});

const taskPath = (id: number) => `/1.0/me/task/contactChange/${id}`;

/** What a mail's link brought: its code, and whom the mail was sent to. Kept for this tab only. */
export interface MailLink {
  code: string;
  for?: string;
}
/** A task's link is kept under its id, a move's under `move-<id>`. */
type LinkId = number | `move-${number}`;
const linkKey = (id: LinkId) => `link:${id}`;
export function storedLink(id: LinkId): MailLink | undefined {
  const raw = sessionStorage.getItem(linkKey(id));
  return raw ? (JSON.parse(raw) as MailLink) : undefined;
}
export const storeLink = (id: LinkId, link: MailLink) =>
  sessionStorage.setItem(linkKey(id), JSON.stringify(link));
export const forgetLink = (id: LinkId) => sessionStorage.removeItem(linkKey(id));

/** The code to put in my form: only a link sent to me (or an old link that names nobody, if I am awaited). */
export function codeForMe(task: TaskResponse): string {
  const link = storedLink(task.id);
  const me = app.session?.nichandle;
  if (!link || (link.for !== undefined && link.for !== me)) return '';
  return task.validators.some((v) => v.handle === me && v.status === 'pending') ? link.code : '';
}

/** Between the last acceptance and the end, the change is being checked and applied: a second or so. */
const SETTLING_STATES: TaskResponse['state'][] = ['todo', 'checkValidity', 'doing'];
export const isSettling = (task: TaskResponse) => SETTLING_STATES.includes(task.state);

/** An open task's steps, in order; an ended one is past them all. */
const STEPS: TaskResponse['state'][] = ['todo', 'validatingByCustomers', 'checkValidity', 'doing'];
const stepOf = (task: TaskResponse) => (task.open ? STEPS.indexOf(task.state) : STEPS.length);

/**
 * A read of the task that does not hold a decision or a step the card already shows (its write is on its way):
 * the read model shows "validating" with every acceptance written until the apply's second statement writes "done",
 * where the last accept's answer (the workflow's) says the change is being applied.
 */
export const isBehind = (read: TaskResponse, shown: TaskResponse) =>
  read.open &&
  (stepOf(read) < stepOf(shown) ||
    shown.validators.some(
      (v) =>
        v.status !== 'pending' && read.validators.find((r) => r.handle === v.handle)?.status === 'pending',
    ));

/**
 * How often a card reads its request while it is being applied: soon at first (an apply takes about a second),
 * then less and less often, never less than every 15 s. There is no end: a loaded worker or a database outage
 * retried for minutes delays the apply, and the card must not stay "being applied" once it is over.
 */
const FOLLOW_FIRST_MS = 500;
const FOLLOW_GROWTH = 1.5;
const FOLLOW_MAX_MS = 15_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once the page is visible again: a tab nobody looks at reads nothing. */
function whenVisible(): Promise<void> {
  return new Promise((resolve) => {
    const seen = () => {
      if (document.visibilityState !== 'visible') return;
      document.removeEventListener('visibilitychange', seen);
      resolve();
    };
    document.addEventListener('visibilitychange', seen);
    seen();
  });
}

/**
 * Follows the request until it reaches a state that does not change by itself (its check and apply are over), so
 * the card never shows a state already past: the decision's answer comes from the workflow, and the task as read
 * may not hold that decision yet (its write follows it by a moment), so a read that is behind the card is not
 * shown. Reads pause while the page is hidden and start again, at once, when it is shown; leaving the page ends
 * them with it. A read that fails for a while (no network, a busy server) is tried again later; one refused for
 * good (the session ended, the request no longer mine) ends the following.
 */
export async function followWhileSettling(card: TaskCard, redraw: () => void): Promise<void> {
  if (card.following) return;
  card.following = true;
  try {
    let wait = FOLLOW_FIRST_MS;
    while (isSettling(card.task)) {
      await pause(wait);
      wait = Math.min(wait * FOLLOW_GROWTH, FOLLOW_MAX_MS);
      if (document.visibilityState !== 'visible') {
        await whenVisible();
        wait = FOLLOW_FIRST_MS;
      }
      const fresh = await api<TaskResponse>('GET', taskPath(card.task.id)).catch(() => undefined);
      if (!fresh || (!fresh.ok && (fresh.status >= 500 || fresh.status === 429))) continue;
      if (!fresh.ok) return;
      if (isBehind(fresh.body, card.task)) continue;
      card.task = fresh.body;
      redraw();
    }
  } finally {
    card.following = false;
  }
}

const VALIDATOR_TEXT: Record<TaskResponse['validators'][number]['status'], TextKey> = {
  accepted: 'validatorAccepted',
  refused: 'validatorRefused',
  pending: 'validatorPending',
};

const historyText = (entry: TaskResponse['history'][number]) => {
  const key = `history_${entry.action}`;
  return hasText(key)
    ? t(key, { actor: entry.actor })
    : t('history_other', { actor: entry.actor, action: entry.action });
};

/**
 * A mail that could not be delivered, in words: whose (a reader whose own address refuses mail sees that address
 * and where to correct it; others see only the handle) and what to do.
 */
export function attentionText(task: TaskResponse): string | undefined {
  const problem = task.needsAttention;
  if (!problem || !task.open) return undefined;
  const me = app.session?.nichandle;
  if (me && problem.handles.includes(me))
    return t(`attentionMine_${problem.reason}`, { email: app.session?.email });
  return t(`attention_${problem.reason}`, { handles: problem.handles.join(', ') });
}

export const describeChange = (task: TaskResponse) =>
  t('changeText', {
    roles: task.contactTypes.map(roleName).join(', '),
    from: task.fromAccount,
    to: task.toAccount,
  });

export function taskCardView(
  card: TaskCard,
  redraw: () => void,
  headingLevel: 'h1' | 'h2' = 'h2',
): TemplateResult {
  const { task } = card;
  const me = app.session?.nichandle;
  const mine = task.validators.find((v) => v.handle === me);
  const path = taskPath(task.id);
  const statusId = `task-${task.id}-status`;

  const show = (message: string, kind: StatusKind) => {
    card.message = message;
    card.kind = kind;
    card.confirming = undefined;
    redraw();
    focusOn(`#${statusId}`);
  };

  async function decide(decision: 'accept' | 'refuse', form: HTMLFormElement): Promise<void> {
    const token = String(new FormData(form).get('token') ?? '').trim();
    card.code = token;
    card.codeError = '';
    const response = await api<DecisionResponse>('POST', `${path}/${decision}`, { token });
    if (!response.ok) {
      card.codeError = errorText(response.body);
      card.confirming = undefined;
      redraw();
      announce(card.codeError);
      form.querySelector<HTMLInputElement>('input[name="token"]')?.focus();
      return;
    }
    forgetLink(task.id);
    card.task = response.body.task;
    card.code = '';
    show(t(decision === 'accept' ? 'accepted' : 'refusedDone'), 'success');
    await followWhileSettling(card, redraw);
  }

  /** A fresh code to one chosen validator (the asker may choose any still awaited, e.g. a contact never reached). */
  async function resend(handle: string): Promise<void> {
    const response = await api<ResendResponse>('POST', `${path}/resendEmail`, { to: [handle] });
    if (!response.ok) return show(errorText(response.body), 'error');
    const { resentTo, notYet } = response.body;
    const lines = resentTo.length ? [t('resent', { handles: resentTo.join(', ') })] : [];
    for (const wait of notYet)
      lines.push(t('resendNotYet', { handle: wait.handle, seconds: wait.retryAfterSeconds }));
    show(lines.join(' '), 'success');
    const fresh = await api<TaskResponse>('GET', path);
    if (fresh.ok) {
      card.task = fresh.body;
      redraw();
    }
  }

  async function cancel(): Promise<void> {
    const response = await api<TaskResponse>('POST', `${path}/cancel`);
    if (response.ok) {
      card.task = response.body;
      show(t('cancelled'), 'success');
    } else show(errorText(response.body), 'error');
  }

  function ask(confirming: Confirming): void {
    card.confirming = confirming;
    redraw();
    focusOn(`#task-${task.id}-confirm`);
  }

  const awaitingValidation = task.state === 'validatingByCustomers';
  const rows: [TextKey, string][] = [
    ['service', `${task.serviceDomain ?? ''} (${serviceTypeName(task.serviceType)})`],
    ['change', describeChange(task)],
    ['askedBy', task.askingAccount ?? ''],
    [
      'state',
      t(`state_${task.state}`) +
        (task.reason && hasText(`reason_${task.reason}`)
          ? ` — ${t(`reason_${task.reason}` as TextKey)}`
          : ''),
    ],
    ['requestedOn', formatDate(task.dateRequest)],
  ];
  if (task.dateDone) rows.push(['doneOn', formatDate(task.dateDone)]);
  else if (awaitingValidation) rows.push(['expiresOn', formatDate(task.expiresAt)]);

  const attention = attentionText(task);
  const headingId = `task-${task.id}`;
  const heading =
    headingLevel === 'h1'
      ? html`<h1 id=${headingId} tabindex="-1">${t('request', { id: task.id })}</h1>`
      : html`<h2 id=${headingId}>${t('request', { id: task.id })}</h2>`;
  const mayDecide = awaitingValidation && mine?.status === 'pending';
  // Whom this reader may send a fresh code to, as the server says (the rule lives in one place there).
  const resendTargets = awaitingValidation ? task.canResendTo : [];
  const canResend = resendTargets.length > 0;
  const canCancel = task.canCancel;
  const validatorText = (v: TaskResponse['validators'][number]) =>
    v.status === 'pending' && !task.open
      ? t('validatorSilent', { handle: v.handle })
      : t(VALIDATOR_TEXT[v.status], { handle: v.handle });

  const confirmation = (what: 'refuse' | 'cancel') =>
    html`<div class="confirm" role="group" aria-labelledby="task-${task.id}-confirm">
      <p id="task-${task.id}-confirm" tabindex="-1">
        ${t(what === 'refuse' ? 'confirmRefuse' : 'confirmCancel', { id: task.id })}
      </p>
      <div class="buttons">
        <button
          type="button"
          class="danger"
          @click=${(e: Event) =>
            what === 'refuse'
              ? decide('refuse', (e.target as HTMLElement).closest('form') as HTMLFormElement)
              : cancel()}
        >
          ${t(what === 'refuse' ? 'yesRefuse' : 'yesCancel')}
        </button>
        <button type="button" class="secondary" @click=${() => ask(undefined)}>${t('keepIt')}</button>
      </div>
    </div>`;

  const decisionForm = html`<form
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
    ${
      card.confirming === 'refuse'
        ? confirmation('refuse')
        : html`<div class="buttons">
            <button type="submit">${t('accept')}</button>
            <button type="button" class="danger" @click=${() => ask('refuse')}>${t('refuse')}</button>
          </div>`
    }
  </form>`;

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
      ${task.validators.map((v) => html`<li class=${v.status}>${validatorText(v)}</li>`)}
    </ul>
    ${attention ? html`<p class="attention" role="status">${attention}</p>` : nothing}
    ${isSettling(task) ? html`<p class="note">${t('beingApplied')}</p>` : nothing}
    ${
      awaitingValidation && mine?.status === 'accepted' && task.awaiting.length > 0
        ? html`<p class="note">${t('waitingForOther')}</p>`
        : nothing
    }
    ${
      !mine && me && task.informed.includes(me) && task.askingAccount !== me
        ? html`<p class="note">${t('informedOnly')}</p>`
        : nothing
    }
    ${mayDecide ? decisionForm : nothing}
    ${
      card.confirming === 'cancel'
        ? confirmation('cancel')
        : canResend || canCancel
          ? html`${canResend ? html`<p class="note">${t('resendIntro')}</p>` : nothing}
              <div class="buttons">
                ${resendTargets.map(
                  (handle) =>
                    html`<button type="button" class="secondary" @click=${() => resend(handle)}>
                      ${t(handle === me ? 'resendCodeToMe' : 'resendCodeTo', { handle })}
                    </button>`,
                )}
                ${
                  canCancel
                    ? html`<button type="button" class="secondary" @click=${() => ask('cancel')}>
                        ${t('cancelRequest')}
                      </button>`
                    : nothing
                }
              </div>`
          : nothing
    }
    <p
      id=${statusId}
      class="status ${card.kind}"
      role=${card.kind === 'error' ? 'alert' : 'status'}
      tabindex="-1"
    >
      ${card.message}
    </p>
    ${
      task.history.length
        ? html`<details class="timeline">
            <summary>${t('timeline')}</summary>
            <ol>
              ${task.history.map(
                (entry) =>
                  html`<li>
                    <time datetime=${entry.date}>${formatDate(entry.date)}</time> ${historyText(entry)}
                  </li>`,
              )}
            </ol>
          </details>`
        : nothing
    }
  </article>`;
}
