import { html, nothing, render, type TemplateResult } from 'lit-html';
import type { z } from 'zod';
import type { TextKey } from '../../api/portal/i18n';
import type { moveDecisionResponse, moveItemPage, moveResponse, resendResponse } from '../../api/schemas';
import {
  announce,
  api,
  app,
  data,
  errorText,
  focusOn,
  formatDate,
  hasText,
  main,
  roleName,
  serviceTypeName,
  setTitle,
  t,
} from '../core';
import { field, statusLine, type StatusKind } from '../ui';
import { forgetLink, storedLink } from './task';

export type Move = z.infer<typeof moveResponse>;
type MoveItem = z.infer<typeof moveItemPage>['items'][number];
type ItemPage = z.infer<typeof moveItemPage>;

export const MOVES = '/1.0/me/contactMove';
const OPEN_MOVE_STATES: Move['state'][] = ['checking', 'todo', 'applying'];
export const isOpenMove = (move: Move) => OPEN_MOVE_STATES.includes(move.state);

/** Why a service does not move, in words: the move's own reasons, else the single task's. */
export function moveReasonText(reason: string): string {
  for (const key of [`moveReason_${reason}`, `reason_${reason}`]) if (hasText(key)) return t(key);
  return reason;
}

export const describeMove = (move: Pick<Move, 'contactTypes' | 'fromAccount' | 'toAccount'>) =>
  t('changeText', {
    roles: move.contactTypes.map(roleName).join(', '),
    from: move.fromAccount,
    to: move.toAccount,
  });

const awaitsMe = (move: Move) =>
  move.state === 'todo' &&
  move.validators.some((v) => v.handle === app.session?.nichandle && v.status === 'pending');

/** Where the move stands: a progress bar of the services handled, and the figures in words. */
export function moveProgress(move: Move): TemplateResult {
  const { total, applied, skipped, refused, expired, cancelled, remaining } = move.counts;
  const notMoved = refused + expired + cancelled;
  const words = t('moveProgress', { applied, skipped, notMoved, remaining, total });
  return html`<div class="move-progress">
    <progress max=${Math.max(total, 1)} .value=${total - remaining} aria-label=${words}></progress>
    <p class="progress-text">${words}</p>
  </div>`;
}

const byReasonList = (move: Move) => {
  const reasons = Object.entries(move.byReason);
  return reasons.length
    ? html`<ul class="reasons">
        ${reasons.map(([reason, count]) => html`<li>${t('labelled', { label: moveReasonText(reason), value: count })}</li>`)}
      </ul>`
    : nothing;
};

const VALIDATOR_TEXT: Record<Move['validators'][number]['status'], TextKey> = {
  accepted: 'validatorAccepted',
  refused: 'validatorRefused',
  pending: 'validatorPending',
};

/** A mail of the move that could not be delivered: whom, and what to do (the same words as for a request). */
function attentionOfMove(problem: NonNullable<Move['needsAttention']>): string {
  const handles = problem.handles.join(', ');
  const key = `attention_${problem.reason}`;
  return hasText(key) ? t(key, { handles }) : t('attention_mailRejected', { handles });
}

/** The move's facts, progress and validators: shared by its page, its validation page and My requests. */
export function moveFacts(move: Move): TemplateResult {
  const rows: [TextKey, string][] = [
    ['change', describeMove(move)],
    ['askedBy', move.askingAccount],
    [
      'state',
      t(`moveState_${move.state}` as TextKey) + (move.reason ? ` — ${moveReasonText(move.reason)}` : ''),
    ],
    ['requestedOn', formatDate(move.dateRequest)],
  ];
  if (move.dateDone) rows.push(['doneOn', formatDate(move.dateDone)]);
  else if (move.state === 'todo') rows.push(['expiresOn', formatDate(move.expiresAt)]);
  const validatorText = (v: Move['validators'][number]) =>
    `${t(VALIDATOR_TEXT[v.status], { handle: v.handle })} — ${t('moveValidatorItems', { items: v.items })}` +
    (v.excluded ? ` ${t('moveValidatorExcluded', { excluded: v.excluded })}` : '');
  return html`<dl>
      ${rows.map(
        ([key, value]) =>
          html`<dt>${t(key)}</dt>
            <dd>${value}</dd>`,
      )}
    </dl>
    ${moveProgress(move)} ${byReasonList(move)}
    <h3>${t('validators')}</h3>
    <ul class="validators">
      ${move.validators.map((v) => html`<li class=${v.status}>${validatorText(v)}</li>`)}
    </ul>
    ${
      move.needsAttention && isOpenMove(move)
        ? html`<p class="attention" role="status">${attentionOfMove(move.needsAttention)}</p>`
        : nothing
    }`;
}

/** A move in "My requests": its facts and the way to its page (and to validate it, when it waits for me). */
export function moveSummaryView(move: Move): TemplateResult {
  const headingId = `move-${move.id}`;
  return html`<article class="task move" aria-labelledby=${headingId}>
    <h2 id=${headingId}><a href="/moves/${move.id}">${t('moveTitle', { id: move.id })}</a></h2>
    ${moveFacts(move)}
    ${
      awaitsMe(move)
        ? html`<p><a class="button" href="/validate-move/${move.id}">${t('moveValidateLink')}</a></p>`
        : nothing
    }
  </article>`;
}

/** Every move that concerns me (newest first), for My requests; none when the API has no moves. */
export async function loadMoves(limit = 50): Promise<Move[]> {
  const ids = await api<number[]>('GET', MOVES);
  if (!ids.ok) return [];
  const moves = await Promise.all(ids.body.slice(0, limit).map((id) => api<Move>('GET', `${MOVES}/${id}`)));
  return moves.flatMap((m) => (m.ok ? [m.body] : []));
}

/** Pages of a move's items, as the API pages them. */
class ItemList {
  items: MoveItem[] = [];
  nextCursor: string | null = null;
  constructor(private readonly moveId: number) {}

  async load(more = false, limit = 100): Promise<void> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (more && this.nextCursor) query.set('cursor', this.nextCursor);
    const page = await api<ItemPage>('GET', `${MOVES}/${this.moveId}/item?${query}`);
    if (!page.ok) return;
    this.items = more ? [...this.items, ...page.body.items] : page.body.items;
    this.nextCursor = page.body.nextCursor;
  }
}

const itemState = (item: MoveItem) =>
  t(`state_${item.state}` as TextKey) + (item.reason ? ` — ${moveReasonText(item.reason)}` : '');

function itemsTable(list: ItemList, more: () => void): TemplateResult | typeof nothing {
  if (list.items.length === 0) return nothing;
  return html`<div class="table-box">
      <table class="move-items">
        <caption>
          ${t('moveItemsTitle')}
        </caption>
        <thead>
          <tr>
            <th scope="col">${t('colService')}</th>
            <th scope="col">${t('colType')}</th>
            <th scope="col">${t('moveRoles')}</th>
            <th scope="col">${t('state')}</th>
          </tr>
        </thead>
        <tbody>
          ${list.items.map(
            (item) =>
              html`<tr class="item-${item.state}">
                <th scope="row" data-label=${t('colService')}>${item.serviceName}</th>
                <td data-label=${t('colType')}>${serviceTypeName(item.serviceType)}</td>
                <td data-label=${t('moveRoles')}>${item.contactTypes.map(roleName).join(', ')}</td>
                <td data-label=${t('state')}>${itemState(item)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${list.nextCursor ? html`<button type="button" class="secondary" @click=${more}>${t('more')}</button>` : nothing}`;
}

/** Follows an open move (its progress while it applies) until it ends or the page is left. */
function follow(moveId: number, onChange: (move: Move) => Promise<void> | void): void {
  const tick = async () => {
    const fresh = await api<Move>('GET', `${MOVES}/${moveId}`);
    if (fresh.ok) await onChange(fresh.body);
    if (!fresh.ok || isOpenMove(fresh.body)) setTimeout(() => void tick(), 1000);
  };
  setTimeout(() => void tick(), 1000);
}

/** /moves/{id}: the move, its progress while it applies, its items; resend and cancel for whoever may. */
export async function movePage(): Promise<void> {
  const id = Number(data.params.moveId);
  const me = app.session?.nichandle ?? '';
  const items = new ItemList(id);
  let move: Move | undefined;
  let error = '';
  let message = '';
  let kind: StatusKind = '';
  let confirmingCancel = false;

  const say = (text: string, how: StatusKind) => {
    message = text;
    kind = how;
    confirmingCancel = false;
    draw();
    focusOn('#move-status');
  };

  async function resend(handle: string): Promise<void> {
    const response = await api<z.infer<typeof resendResponse>>('POST', `${MOVES}/${id}/resendEmail`, {
      to: [handle],
    });
    if (!response.ok) return say(errorText(response.body), 'error');
    const lines = response.body.resentTo.length
      ? [t('resent', { handles: response.body.resentTo.join(', ') })]
      : [];
    for (const wait of response.body.notYet)
      lines.push(t('resendNotYet', { handle: wait.handle, seconds: wait.retryAfterSeconds }));
    say(lines.join(' '), 'success');
  }

  async function cancel(): Promise<void> {
    const response = await api<Move>('POST', `${MOVES}/${id}/cancel`);
    if (!response.ok) return say(errorText(response.body), 'error');
    move = response.body;
    say(t('moveCancelled'), 'success');
  }

  const actions = (current: Move) => {
    const targets = current.state === 'todo' ? current.canResendTo : [];
    if (confirmingCancel)
      return html`<div class="confirm" role="group" aria-labelledby="move-confirm">
        <p id="move-confirm" tabindex="-1">${t('confirmCancelMove', { id })}</p>
        <div class="buttons">
          <button type="button" class="danger" @click=${cancel}>${t('yesCancelMove')}</button>
          <button
            type="button"
            class="secondary"
            @click=${() => {
              confirmingCancel = false;
              draw();
            }}
          >
            ${t('keepIt')}
          </button>
        </div>
      </div>`;
    if (targets.length === 0 && !current.cancellable) return nothing;
    return html`${targets.length ? html`<p class="note">${t('resendIntro')}</p>` : nothing}
      <div class="buttons">
        ${targets.map(
          (handle) =>
            html`<button type="button" class="secondary" @click=${() => resend(handle)}>
              ${t(handle === me ? 'resendCodeToMe' : 'resendCodeTo', { handle })}
            </button>`,
        )}
        ${
          current.cancellable
            ? html`<button
                type="button"
                class="secondary"
                @click=${() => {
                  confirmingCancel = true;
                  draw();
                  focusOn('#move-confirm');
                }}
              >
                ${t('cancelMove')}
              </button>`
            : nothing
        }
      </div>`;
  };

  const draw = () =>
    render(
      html`<h1 tabindex="-1">${t('moveTitle', { id })}</h1>
        ${error ? statusLine(error, 'error') : nothing}
        ${
          move
            ? html`<article class="task move" aria-label=${t('moveTitle', { id })}>
                  ${moveFacts(move)}
                  ${
                    awaitsMe(move)
                      ? html`<p>
                          <a class="button" href="/validate-move/${id}">${t('moveValidateLink')}</a>
                        </p>`
                      : nothing
                  }
                  ${actions(move)}
                  <p
                    id="move-status"
                    class="status ${kind}"
                    role=${kind === 'error' ? 'alert' : 'status'}
                    tabindex="-1"
                  >
                    ${message}
                  </p>
                </article>
                ${itemsTable(items, () => void items.load(true).then(draw))}`
            : nothing
        }`,
      main,
    );
  setTitle(t('moveTitle', { id }));
  main.replaceChildren();
  draw();
  const [loaded] = await Promise.all([api<Move>('GET', `${MOVES}/${id}`), items.load()]);
  if (!loaded.ok) {
    error = loaded.status === 404 ? t('moveNotConcerned', { id, me }) : errorText(loaded.body);
    draw();
    return;
  }
  move = loaded.body;
  draw();
  if (isOpenMove(move))
    follow(id, async (fresh) => {
      const changed = JSON.stringify(fresh.counts) !== JSON.stringify(move?.counts);
      move = fresh;
      if (changed || !isOpenMove(fresh)) await items.load();
      draw();
    });
}

/** Logs out and back in as the person the link was sent to, coming back to this move with its code. */
async function switchAccount(): Promise<void> {
  await api('POST', '/auth/logout');
  location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
}

/**
 * /validate-move/{id}: the page a move's mail links to. Its services each with a checkbox (clear one to leave it
 * out), the code from the link only for the person it was sent to; accept, or refuse the rest after confirming.
 */
export async function validateMovePage(): Promise<void> {
  const id = Number(data.params.moveId);
  const me = app.session?.nichandle ?? '';
  const link = storedLink(`move-${id}`);
  const forSomeoneElse = link?.for !== undefined && link.for !== me;
  const items = new ItemList(id);
  const left = new Set<string>();
  let move: Move | undefined;
  let code = '';
  let codeError = '';
  let error = '';
  let message = '';
  let kind: StatusKind = '';
  let confirmingRefuse = false;

  async function decide(decision: 'accept' | 'refuse'): Promise<void> {
    const token = (main.querySelector<HTMLInputElement>('#move-token')?.value ?? '').trim();
    code = token;
    codeError = '';
    const body = decision === 'accept' && left.size ? { token, exclude: [...left] } : { token };
    const response = await api<z.infer<typeof moveDecisionResponse>>(
      'POST',
      `${MOVES}/${id}/${decision}`,
      body,
    );
    confirmingRefuse = false;
    if (!response.ok) {
      codeError = errorText(response.body);
      draw();
      announce(codeError);
      focusOn('#move-token');
      return;
    }
    forgetLink(`move-${id}`);
    move = response.body.move;
    message =
      decision === 'accept'
        ? t(left.size ? 'moveAcceptedExcept' : 'moveAccepted', { excluded: left.size })
        : t('moveRefusedDone');
    kind = 'success';
    await items.load(false, 1000);
    draw();
    focusOn('#move-status');
    follow(id, async (fresh) => {
      const changed = JSON.stringify(fresh.counts) !== JSON.stringify(move?.counts);
      move = fresh;
      if (changed || !isOpenMove(fresh)) await items.load(false, 1000);
      draw();
    });
  }

  const mayDecide = () =>
    move?.state === 'todo' && move.validators.some((v) => v.handle === me && v.status === 'pending');

  const serviceChoice = () => {
    const open = items.items.filter((item) => item.state === 'validatingByCustomers');
    return html`<fieldset class="move-services">
      <legend>${t('moveServicesLegend', { count: open.length })}</legend>
      <p class="hint" id="move-services-hint">${t('moveServicesHint')}</p>
      ${open.map(
        (item) =>
          html`<label class="check">
            <input
              type="checkbox"
              name="include"
              value=${item.serviceName}
              aria-describedby="move-services-hint"
              .checked=${!left.has(item.serviceName)}
              @change=${(e: Event) => {
                if ((e.target as HTMLInputElement).checked) left.delete(item.serviceName);
                else left.add(item.serviceName);
                draw();
              }}
            />
            ${item.serviceName} (${serviceTypeName(item.serviceType)}:
            ${item.contactTypes.map(roleName).join(', ')})
          </label>`,
      )}
      ${
        items.nextCursor
          ? html`<button
              type="button"
              class="secondary"
              @click=${() => void items.load(true, 1000).then(draw)}
            >
              ${t('more')}
            </button>`
          : nothing
      }
    </fieldset>`;
  };

  const decisionForm = () =>
    html`<form
      class="decision"
      novalidate
      @submit=${(e: SubmitEvent) => {
        e.preventDefault();
        void decide('accept');
      }}
    >
      ${serviceChoice()}
      ${field(
        'move-token',
        t('code'),
        (a) =>
          html`<input
            id=${a.id}
            name="token"
            .value=${code}
            autocomplete="one-time-code"
            autocapitalize="characters"
            spellcheck="false"
            required
            aria-describedby=${a.describedBy}
            aria-invalid=${a.invalid}
          />`,
        { hint: t('codeHint'), error: codeError },
      )}
      ${
        confirmingRefuse
          ? html`<div class="confirm" role="group" aria-labelledby="move-confirm">
              <p id="move-confirm" tabindex="-1">${t('confirmRefuseMove', { id })}</p>
              <div class="buttons">
                <button type="button" class="danger" @click=${() => decide('refuse')}>
                  ${t('yesRefuse')}
                </button>
                <button
                  type="button"
                  class="secondary"
                  @click=${() => {
                    confirmingRefuse = false;
                    draw();
                  }}
                >
                  ${t('keepIt')}
                </button>
              </div>
            </div>`
          : html`<div class="buttons">
              <button type="submit">
                ${left.size ? t('acceptMoveExcept', { excluded: left.size }) : t('acceptMove')}
              </button>
              <button
                type="button"
                class="danger"
                @click=${() => {
                  confirmingRefuse = true;
                  draw();
                  focusOn('#move-confirm');
                }}
              >
                ${t('refuseMove')}
              </button>
            </div>`
      }
    </form>`;

  const draw = () =>
    render(
      html`<h1 tabindex="-1">${t('validateMoveTitle', { id })}</h1>
        ${
          forSomeoneElse
            ? html`<div class="note" role="status">
                <p>${t('linkForOther', { for: link?.for, me })}</p>
                <button type="button" @click=${switchAccount}>
                  ${t('switchAccount', { handle: link?.for })}
                </button>
              </div>`
            : nothing
        }
        ${error ? statusLine(error, 'error') : nothing}
        ${
          move
            ? html`${mayDecide() ? html`<p>${t('validateMoveIntro')}</p>` : nothing}
                <article class="task move" aria-label=${t('moveTitle', { id })}>
                  ${moveFacts(move)} ${mayDecide() ? decisionForm() : nothing}
                  <p
                    id="move-status"
                    class="status ${kind}"
                    role=${kind === 'error' ? 'alert' : 'status'}
                    tabindex="-1"
                  >
                    ${message}
                  </p>
                  <p><a href="/moves/${id}">${t('moveSeeAll')}</a></p>
                </article>`
            : nothing
        }`,
      main,
    );
  setTitle(t('validateMoveTitle', { id }));
  main.replaceChildren();
  draw();
  const [loaded] = await Promise.all([api<Move>('GET', `${MOVES}/${id}`), items.load(false, 1000)]);
  if (!loaded.ok) {
    error = loaded.status === 404 ? t('moveNotConcerned', { id, me }) : errorText(loaded.body);
    draw();
    return;
  }
  move = loaded.body;
  // The code fills only the form of the person the mail was sent to (or an old link that names nobody).
  if (link && !forSomeoneElse && mayDecide()) code = link.code;
  draw();
}
