import { html, nothing, render } from 'lit-html';
import type { TextKey } from '../../api/portal/i18n';
import { api, app, errorText, main, setQuery, setTitle, t } from '../core';
import { field, statusLine } from '../ui';
import { isOpenMove, loadMoves, moveSummaryView, type Move } from './moves';
import {
  codeForMe,
  followWhileSettling,
  newCard,
  taskCardView,
  type TaskCard,
  type TaskResponse,
} from './task';

type View = 'toValidate' | 'open' | 'ended' | 'all';
const VIEWS: [View, TextKey][] = [
  ['toValidate', 'tabToValidate'],
  ['open', 'tabOpen'],
  ['ended', 'tabEnded'],
  ['all', 'tabAll'],
];

const awaitsMe = (task: TaskResponse) =>
  task.state === 'validatingByCustomers' &&
  task.validators.some((v) => v.handle === app.session?.nichandle && v.status === 'pending');

const IN_VIEW: Record<View, (task: TaskResponse) => boolean> = {
  toValidate: awaitsMe,
  open: (task) => task.open,
  ended: (task) => !task.open,
  all: () => true,
};

const matches = (task: TaskResponse, search: string) =>
  !search ||
  [task.serviceDomain, task.askingAccount, task.fromAccount, task.toAccount, String(task.id)].some((value) =>
    value?.toLowerCase().includes(search.toLowerCase()),
  );

/** "My requests": tabs (to validate, open, ended, all) and a search, both kept in the address. */
export async function requestsPage(): Promise<void> {
  const query = new URLSearchParams(location.search);
  let view = (VIEWS.find(([v]) => v === query.get('view'))?.[0] ?? undefined) as View | undefined;
  let search = query.get('q') ?? '';
  let cards: TaskCard[] | undefined;
  let moves: Move[] = [];
  let error = '';

  const choose = (next: View) => (event: Event) => {
    event.preventDefault();
    view = next;
    setQuery({ view: next, q: search });
    draw();
  };

  /** Moves first (each stands for many services), in the same tabs and search as single requests. */
  const moveInView = (move: Move) => {
    const me = app.session?.nichandle;
    const visible: Record<View, boolean> = {
      toValidate:
        move.state === 'todo' && move.validators.some((v) => v.handle === me && v.status === 'pending'),
      open: isOpenMove(move),
      ended: !isOpenMove(move),
      all: true,
    };
    const text = [move.askingAccount, move.fromAccount, move.toAccount, String(move.id)];
    return (
      visible[view ?? 'all'] && (!search || text.some((v) => v.toLowerCase().includes(search.toLowerCase())))
    );
  };
  const moveList = () => {
    const shown = moves.filter(moveInView);
    return shown.length
      ? html`<section aria-labelledby="moves-title">
          <h2 id="moves-title">${t('movesTitle')}</h2>
          <div class="tasks">${shown.map(moveSummaryView)}</div>
        </section>`
      : nothing;
  };

  const list = () => {
    if (!cards) return nothing;
    if (cards.length === 0 && moves.length === 0) return html`<p>${t('noRequests')}</p>`;
    // A card just acted on stays in view with its result, even once it no longer belongs to the tab.
    const shown = cards.filter(
      (card) => (card.message || IN_VIEW[view ?? 'all'](card.task)) && matches(card.task, search),
    );
    return shown.length
      ? html`<div class="tasks">${shown.map((card) => taskCardView(card, draw))}</div>`
      : html`<p>${t('noMatchingRequests')}</p>`;
  };

  const draw = () =>
    render(
      html`<h1 tabindex="-1">${t('requestsTitle')}</h1>
        <p>${t('requestsIntro')}</p>
        <nav class="tabs" aria-label=${t('requestViews')}>
          <ul>
            ${VIEWS.map(([v, key]) => {
              const count = cards?.filter((card) => IN_VIEW[v](card.task)).length;
              return html`<li>
                <a
                  href="?view=${v}"
                  aria-current=${v === (view ?? 'all') ? 'page' : nothing}
                  @click=${choose(v)}
                  >${t(key)}${count === undefined ? '' : ` (${count})`}</a
                >
              </li>`;
            })}
          </ul>
        </nav>
        <form class="filters" role="search" @submit=${(e: SubmitEvent) => e.preventDefault()}>
          ${field(
            'search-requests',
            t('searchRequests'),
            (a) =>
              html`<input
                id=${a.id}
                type="search"
                name="q"
                .value=${search}
                @input=${(e: Event) => {
                  search = (e.target as HTMLInputElement).value.trim();
                  setQuery({ view: view ?? '', q: search });
                  draw();
                }}
              />`,
          )}
        </form>
        ${error ? statusLine(error, 'error') : nothing} ${moveList()} ${list()}`,
      main,
    );
  setTitle(t('requestsTitle'));
  main.replaceChildren();
  draw();

  const [ids, allMoves] = await Promise.all([
    api<number[]>('GET', '/1.0/me/task/contactChange'),
    loadMoves(),
  ]);
  moves = allMoves;
  if (!ids.ok) {
    error = errorText(ids.body);
    draw();
    return;
  }
  const tasks = (
    await Promise.all(
      ids.body.slice(0, 100).map((id) => api<TaskResponse>('GET', `/1.0/me/task/contactChange/${id}`)),
    )
  ).flatMap((r) => (r.ok && r.body.moveId === undefined ? [r.body] : [])); // a move's items show under the move
  tasks.sort((a, b) => Number(b.open) - Number(a.open) || b.id - a.id);
  cards = tasks.map((task) => newCard(task, codeForMe(task)));
  // With nothing chosen, open on what waits for me when something does.
  view ??=
    tasks.some(awaitsMe) || moves.some((m) => moveInView(m) && m.state === 'todo') ? 'toValidate' : 'all';
  draw();
  // A request being applied as the page opens is followed to its end, as one accepted here is.
  for (const card of cards) void followWhileSettling(card, draw);
}
