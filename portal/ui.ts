import { html, nothing, type TemplateResult } from 'lit-html';

export interface FieldAria {
  id: string;
  describedBy: string | typeof nothing;
  invalid: 'true' | typeof nothing;
}

/** A labelled field: its hint and its error (when any) are tied to the control for screen readers. */
export function field(
  id: string,
  label: string,
  control: (aria: FieldAria) => TemplateResult,
  options: { hint?: string; error?: string; extra?: TemplateResult | typeof nothing } = {},
): TemplateResult {
  const described = [options.error ? `${id}-error` : '', options.hint ? `${id}-hint` : '']
    .filter(Boolean)
    .join(' ');
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${control({ id, describedBy: described || nothing, invalid: options.error ? 'true' : nothing })}
    ${options.hint ? html`<small id="${id}-hint" class="hint">${options.hint}</small>` : nothing}
    ${options.error ? html`<p id="${id}-error" class="field-error">${options.error}</p>` : nothing}
    ${options.extra ?? nothing}
  </div>`;
}

export type StatusKind = 'error' | 'success' | '';

/** A status line: errors are alerts, successes polite. */
export const statusLine = (message: string, kind: StatusKind) =>
  message
    ? html`<p class="status ${kind}" role=${kind === 'error' ? 'alert' : 'status'}>${message}</p>`
    : html`<p class="status" role="status"></p>`;
