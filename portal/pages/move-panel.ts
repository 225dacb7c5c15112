import { html, nothing, type TemplateResult } from 'lit-html';
import type { z } from 'zod';
import type { moveDryRunResponse } from '../../api/schemas';
import type { ContactType } from '../../workflows/contact-change.messages';
import { announce, api, data, errorText, focusOn, roleName, serviceTypeName, t } from '../core';
import { field, statusLine } from '../ui';
import { MOVES, moveReasonText, type Move } from './moves';

type DryRun = z.infer<typeof moveDryRunResponse>;
type DryRunItem = DryRun['items'][number];

/** What is selected on the services page: some services by name, or every service matching the filter. */
export type Selection = { kind: 'names'; names: Set<string> } | { kind: 'filter' };

export interface ServiceFilter {
  type: string;
  role: string;
  name: string;
}

const MOVE_ROLE: Record<ContactType, 'admin' | 'tech' | 'billing'> = {
  contactAdmin: 'admin',
  contactTech: 'tech',
  contactBilling: 'billing',
};
const HANDLE = /^[a-z]{2}\d+-[a-z]+$/i;
/** A review lists this many services per group, then a count of the others. */
const SHOWN_PER_GROUP = 100;

/** "name (type): roles", with the colon as the language writes it. */
function serviceLine(item: DryRunItem): string {
  const name = item.serviceType
    ? `${item.serviceName} (${serviceTypeName(item.serviceType)})`
    : item.serviceName;
  if (!item.contactTypes.length) return name;
  return t('labelled', { label: name, value: item.contactTypes.map(roleName).join(', ') });
}

/**
 * "Move contacts…" from the services page: to whom and which roles, then a review of the dry run grouped by reason
 * (nothing is sent before "Confirm"), then the move's own page.
 */
export class MovePanel {
  toAccount = '';
  roles = new Set<ContactType>();
  toError = '';
  rolesError = '';
  message = '';
  review?: DryRun;
  private busy = false;

  constructor(
    private readonly selection: () => Selection,
    private readonly filter: () => ServiceFilter,
    private readonly redraw: () => void,
    private readonly close: () => void,
  ) {
    const role = filter().role as ContactType;
    if (data.contactTypes.includes(role)) this.roles.add(role);
  }

  private body(dryRun: boolean) {
    const selection = this.selection();
    const { type, name } = this.filter();
    const target =
      selection.kind === 'names'
        ? { services: [...selection.names] }
        : {
            filter: {
              ...(type ? { serviceType: type } : {}),
              ...(name.trim() ? { nameContains: name.trim() } : {}),
            },
          };
    return {
      toAccount: this.toAccount.toLowerCase(),
      contactTypes: [...this.roles].map((role) => MOVE_ROLE[role]),
      ...target,
      dryRun,
    };
  }

  private async reviewMove(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const values = new FormData(event.target as HTMLFormElement);
    this.toAccount = String(values.get('toAccount') ?? '').trim();
    this.roles = new Set(values.getAll('roles').map(String) as ContactType[]);
    this.toError = HANDLE.test(this.toAccount) ? '' : t('handleFormat');
    this.rolesError = this.roles.size ? '' : t('moveChooseRole');
    this.message = '';
    if (this.toError || this.rolesError) {
      this.redraw();
      announce([this.toError, this.rolesError].filter(Boolean).join(' '));
      focusOn(this.toError ? '#move-to' : '#move-roles input');
      return;
    }
    const response = await api<DryRun>('POST', MOVES, this.body(true));
    if (!response.ok) {
      this.toError = errorText(response.body);
      this.redraw();
      announce(this.toError);
      focusOn('#move-to');
      return;
    }
    this.review = response.body;
    this.redraw();
    focusOn('#move-review-title');
  }

  private async confirm(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const response = await api<Move>('POST', MOVES, this.body(false));
    this.busy = false;
    if (response.ok) {
      location.href = `/moves/${response.body.id}`;
      return;
    }
    this.message = errorText(response.body);
    this.redraw();
    focusOn('#move-review-status');
  }

  private group(title: string, items: DryRunItem[], open: boolean): TemplateResult {
    const shown = items.slice(0, SHOWN_PER_GROUP);
    return html`<details class="review-group" ?open=${open}>
      <summary>${title.charAt(0).toUpperCase() + title.slice(1)} (${items.length})</summary>
      <ul>
        ${shown.map((item) => html`<li>${serviceLine(item)}</li>`)}
        ${items.length > shown.length ? html`<li>${t('andMore', { count: items.length - shown.length })}</li>` : nothing}
      </ul>
    </details>`;
  }

  private reviewView(review: DryRun): TemplateResult {
    const movable = review.items.filter((item) => item.movable);
    const byReason = new Map<string, DryRunItem[]>();
    for (const item of review.items.filter((i) => !i.movable)) {
      const reason = item.reason ?? 'unknown';
      byReason.set(reason, [...(byReason.get(reason) ?? []), item]);
    }
    const validators = review.validators
      .map((v) => t('moveValidatorLine', { handle: v.handle, items: v.items }))
      .join(', ');
    return html`<section id="move-review" aria-labelledby="move-review-title">
      <h2 id="move-review-title" tabindex="-1">${t('moveReviewTitle')}</h2>
      <p>
        ${t('moveReviewSummary', {
          total: review.total,
          movable: review.movable,
          notMovable: review.total - review.movable,
        })}
      </p>
      ${movable.length ? html`<p>${t('moveWillValidate', { validators })}</p>` : nothing}
      ${
        movable.length && review.informed.length
          ? html`<p>${t('willBeInformed', { handles: review.informed.join(', ') })}</p>`
          : nothing
      }
      ${movable.length ? this.group(t('moveGroupMovable'), movable, true) : nothing}
      ${[...byReason].map(([reason, items]) => this.group(moveReasonText(reason), items, false))}
      <div id="move-review-status" tabindex="-1">
        ${statusLine(this.message, this.message ? 'error' : '')}
      </div>
      <div class="buttons">
        ${
          review.movable
            ? html`<button type="button" @click=${() => this.confirm()}>
                ${t('moveConfirm', { movable: review.movable })}
              </button>`
            : nothing
        }
        <button
          type="button"
          class="secondary"
          @click=${() => {
            this.review = undefined;
            this.redraw();
            focusOn('#move-to');
          }}
        >
          ${t('moveBack')}
        </button>
      </div>
    </section>`;
  }

  view(): TemplateResult {
    if (this.review) return this.reviewView(this.review);
    const selection = this.selection();
    return html`<section id="move-panel" class="editor" aria-labelledby="move-title">
      <h2 id="move-title" tabindex="-1">${t('moveContactsTitle')}</h2>
      <p>
        ${
          selection.kind === 'filter'
            ? t('moveIntroFilter')
            : t('moveIntroNames', { count: selection.names.size })
        }
      </p>
      <form novalidate @submit=${(e: SubmitEvent) => this.reviewMove(e)}>
        ${field(
          'move-to',
          t('moveTo'),
          (a) =>
            html`<input
              id=${a.id}
              name="toAccount"
              .value=${this.toAccount}
              autocapitalize="none"
              autocomplete="off"
              spellcheck="false"
              aria-describedby=${a.describedBy}
              aria-invalid=${a.invalid}
            />`,
          { hint: t('handleHint'), error: this.toError },
        )}
        <fieldset
          id="move-roles"
          class="events"
          aria-describedby=${this.rolesError ? 'move-roles-error' : nothing}
        >
          <legend>${t('moveRoles')}</legend>
          ${data.contactTypes.map(
            (role) =>
              html`<label class="check">
                <input type="checkbox" name="roles" value=${role} .checked=${this.roles.has(role)} />
                ${roleName(role)}
              </label>`,
          )}
          ${this.rolesError ? html`<p id="move-roles-error" class="field-error">${this.rolesError}</p>` : nothing}
        </fieldset>
        <div class="buttons">
          <button type="submit">${t('moveReview')}</button>
          <button type="button" class="secondary" @click=${this.close}>${t('cancel')}</button>
        </div>
      </form>
    </section>`;
  }
}
