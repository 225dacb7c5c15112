import { html, nothing, render } from 'lit-html';
import { api, errorText, main, setTitle, t } from '../core';
import { statusLine } from '../ui';
import { newCard, storedCode, taskCardView, type TaskCard, type TaskResponse } from './task';

export async function requestsPage(): Promise<void> {
  let cards: TaskCard[] | undefined;
  let error = '';
  const draw = () =>
    render(
      html`<h1>${t('requestsTitle')}</h1>
        <p>${t('requestsIntro')}</p>
        ${error ? statusLine(error, 'error') : nothing}
        ${cards && cards.length === 0 ? html`<p>${t('noRequests')}</p>` : nothing}
        ${cards?.length ? html`<div class="tasks">${cards.map((card) => taskCardView(card, draw))}</div>` : nothing}`,
      main,
    );
  setTitle(t('requestsTitle'));
  main.replaceChildren();
  draw();

  const ids = await api<number[]>('GET', '/1.0/me/task/contactChange');
  if (!ids.ok) {
    error = errorText(ids.body);
    draw();
    return;
  }
  const tasks = (
    await Promise.all(
      ids.body.slice(0, 50).map((id) => api<TaskResponse>('GET', `/1.0/me/task/contactChange/${id}`)),
    )
  ).flatMap((r) => (r.ok ? [r.body] : []));
  tasks.sort((a, b) => Number(b.open) - Number(a.open) || b.id - a.id);
  cards = tasks.map((task) => newCard(task, storedCode(task.id)));
  draw();
}
