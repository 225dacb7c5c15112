import { html, nothing, render } from 'lit-html';
import { api, app, data, errorText, main, setTitle, t } from '../core';
import { statusLine } from '../ui';
import {
  codeForMe,
  followWhileSettling,
  newCard,
  storedLink,
  taskCardView,
  type TaskCard,
  type TaskResponse,
} from './task';

/** Logs out and back in as the person the link was sent to, coming back to this request with its code. */
async function switchAccount(): Promise<void> {
  await api('POST', '/auth/logout');
  location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
}

/**
 * The page a mail's link opens: it fills the code from the link only for the person the mail was sent to and
 * decides nothing by itself; someone else logged in is told so and offered to switch account.
 */
export async function validatePage(): Promise<void> {
  const id = Number(data.params.taskId);
  const me = app.session?.nichandle ?? '';
  const link = storedLink(id);
  const forSomeoneElse = link?.for !== undefined && link.for !== me;
  let card: TaskCard | undefined;
  let error = '';

  const intro = () => {
    if (!card) return nothing;
    const mine = card.task.validators.find((v) => v.handle === me);
    if (card.task.state === 'validatingByCustomers' && mine?.status === 'pending')
      return html`<p>${t('validateIntro')}</p>`;
    return card.task.open ? nothing : html`<p>${t('endedIntro')}</p>`;
  };
  const draw = () =>
    render(
      html`<h1 tabindex="-1">${t('validateTitle')}</h1>
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
        ${intro()} ${error ? statusLine(error, 'error') : nothing}
        ${card ? taskCardView(card, draw) : nothing}`,
      main,
    );
  setTitle(t('validateTitle'));
  main.replaceChildren();
  draw();
  const task = await api<TaskResponse>('GET', `/1.0/me/task/contactChange/${id}`);
  if (task.ok) card = newCard(task.body, codeForMe(task.body));
  else error = task.status === 404 ? t('notConcerned', { id, me }) : errorText(task.body);
  draw();
  // Opened while it is being applied (another tab accepted, a reload): the card follows it to its end too.
  if (card) void followWhileSettling(card, draw);
}
