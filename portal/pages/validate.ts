import { html, nothing, render } from 'lit-html';
import { api, data, errorText, main, setTitle, t } from '../core';
import { statusLine } from '../ui';
import { newCard, storedCode, taskCardView, type TaskCard, type TaskResponse } from './task';

/** The page a mail's link opens: it fills the code from the link but decides nothing by itself. */
export async function validatePage(): Promise<void> {
  const id = Number(data.params.taskId);
  let card: TaskCard | undefined;
  let error = '';
  const draw = () =>
    render(
      html`<h1>${t('validateTitle')}</h1>
        <p>${t('validateIntro')}</p>
        ${error ? statusLine(error, 'error') : nothing} ${card ? taskCardView(card, draw) : nothing}`,
      main,
    );
  setTitle(t('validateTitle'));
  main.replaceChildren();
  draw();
  const task = await api<TaskResponse>(
    'GET',
    `/1.0/me/task/contactChange/${encodeURIComponent(data.params.taskId)}`,
  );
  if (task.ok) card = newCard(task.body, storedCode(id));
  else error = errorText(task.body);
  draw();
}
