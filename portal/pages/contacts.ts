import { html, nothing, render } from 'lit-html';
import { keyed } from 'lit-html/directives/keyed.js';
import type { z } from 'zod';
import type { TextKey } from '../../api/portal/i18n';
import type { changeCheckResponse, servicePage, serviceContactsResponse } from '../../api/schemas';
import { SERVICE_TYPES } from '../../domain/service-types';
import type { ContactType } from '../../workflows/contact-change.messages';
import type { TaskResponse } from './task';
import {
  announce,
  api,
  data,
  errorText,
  focusOn,
  main,
  roleName,
  serviceTypeName,
  setQuery,
  setTitle,
  t,
  type ApiErrorBody,
} from '../core';
import { field, statusLine } from '../ui';
import { MovePanel, type Selection } from './move-panel';

type Service = z.infer<typeof serviceContactsResponse>;
type ServicePage = z.infer<typeof servicePage>;
type ChangeCheck = z.infer<typeof changeCheckResponse>;
const HANDLE = /^[a-z]{2}\d+-[a-z]+$/i;

const NEW_HOLDER_TEXT: Record<ContactType, TextKey> = {
  contactAdmin: 'newAdmin',
  contactTech: 'newTech',
  contactBilling: 'newBilling',
};
const COLUMNS: TextKey[] = ['colService', 'colType', 'colAdmin', 'colTech', 'colBilling', 'colMyRoles'];

/** The roles this person may hand over: all of them as admin, else only its own tech or billing role. */
const editableRoles = (service: Service) =>
  data.contactTypes.filter((role) =>
    service.myRoles.includes('contactAdmin')
      ? true
      : role !== 'contactAdmin' && service.myRoles.includes(role),
  );

interface Editor {
  service: Service;
  values: Partial<Record<ContactType, string>>;
  errors: Partial<Record<ContactType, string>>;
  fine: Partial<Record<ContactType, string>>;
  preview?: ChangeCheck['tasks'];
  message: string;
  created?: string[];
}

const problemText = (problem: ChangeCheck['problems'][ContactType]) =>
  problem ? errorText({ class: '', ...problem } as ApiErrorBody) : '';

export async function contactsPage(): Promise<void> {
  const query = new URLSearchParams(location.search);
  const filters = {
    type: query.get('type') ?? '',
    role: query.get('role') ?? '',
    name: query.get('name') ?? '',
  };
  /** The open requests on each service, to show on its row. */
  const openByService = new Map<string, TaskResponse[]>();
  const state: {
    cursors: (string | undefined)[];
    cursor?: string;
    page?: ServicePage;
    error: string;
    openMenu?: string;
    editor?: Editor;
    /** Services chosen for a move: some by name, or all those matching the filter. */
    selection: Selection;
    mover?: MovePanel;
  } = { cursors: [], error: '', selection: { kind: 'names', names: new Set() } };

  const selectedCount = () =>
    state.selection.kind === 'names' ? state.selection.names.size : Number.POSITIVE_INFINITY;
  const isSelected = (name: string) => state.selection.kind === 'filter' || state.selection.names.has(name);

  function select(name: string, on: boolean): void {
    if (state.selection.kind !== 'names') return;
    if (on) state.selection.names.add(name);
    else state.selection.names.delete(name);
    draw();
  }

  function selectAllMatching(): void {
    state.selection = { kind: 'filter' }; // the bar's status line says so
    draw();
  }

  function clearSelection(): void {
    state.selection = { kind: 'names', names: new Set() };
    state.mover = undefined;
    draw();
  }

  function openMover(): void {
    state.editor = undefined;
    state.mover = new MovePanel(
      () => state.selection,
      () => filters,
      draw,
      () => {
        state.mover = undefined;
        draw();
        focusOn('#move-open');
      },
    );
    draw();
    focusOn('#move-title');
  }

  async function load(): Promise<void> {
    const query = new URLSearchParams({ limit: '25' });
    if (filters.type) query.set('type', filters.type);
    if (filters.role) query.set('role', filters.role);
    if (filters.name.trim()) query.set('name', filters.name.trim());
    if (state.cursor) query.set('cursor', state.cursor);
    const response = await api<ServicePage>('GET', `/1.0/me/contactManagement/services?${query}`);
    if (response.ok) {
      state.page = response.body;
      state.error = '';
    } else state.error = errorText(response.body);
    draw();
  }

  function applyFilters(event: SubmitEvent): void {
    event.preventDefault();
    const values = new FormData(event.target as HTMLFormElement);
    filters.type = String(values.get('type') ?? '');
    filters.role = String(values.get('role') ?? '');
    filters.name = String(values.get('name') ?? '');
    state.cursors = [];
    state.cursor = undefined;
    // A new filter is a new list: what was selected under the old one is not carried over.
    state.selection = { kind: 'names', names: new Set() };
    state.mover = undefined;
    setQuery(filters);
    void load();
  }

  async function loadOpenRequests(): Promise<void> {
    const lists = await Promise.all(
      data.openStates.map((state) => api<number[]>('GET', `/1.0/me/task/contactChange?state=${state}`)),
    );
    const ids = lists.flatMap((list) => (list.ok ? list.body : [])).slice(0, 50);
    const tasks = await Promise.all(
      ids.map((id) => api<TaskResponse>('GET', `/1.0/me/task/contactChange/${id}`)),
    );
    openByService.clear();
    for (const task of tasks) {
      if (!task.ok || !task.body.serviceDomain) continue;
      openByService.set(task.body.serviceDomain, [
        ...(openByService.get(task.body.serviceDomain) ?? []),
        task.body,
      ]);
    }
    draw();
  }

  function toggleMenu(name: string): void {
    state.openMenu = state.openMenu === name ? undefined : name;
    draw();
    if (state.openMenu) main.querySelector<HTMLButtonElement>(`#${menuId(name)} button`)?.focus();
  }

  function closeMenu(event: KeyboardEvent, name: string): void {
    if (event.key !== 'Escape') return;
    state.openMenu = undefined;
    draw();
    main.querySelector<HTMLButtonElement>(`[aria-controls="${menuId(name)}"]`)?.focus();
  }

  function openEditor(service: Service): void {
    state.openMenu = undefined;
    state.mover = undefined;
    state.editor = { service, values: {}, errors: {}, fine: {}, message: '' };
    draw();
    focusOn('#editor-title');
  }

  let checkTimer: ReturnType<typeof setTimeout> | undefined;
  /** Judges what is typed so far (after a short pause): each handle next to its field, then who validates. */
  function typed(role: ContactType, value: string): void {
    const editor = state.editor;
    if (!editor) return;
    editor.values[role] = value.trim();
    clearTimeout(checkTimer);
    checkTimer = setTimeout(() => void check(editor), 300);
  }

  async function check(editor: Editor): Promise<ChangeCheck | undefined> {
    const body: Partial<Record<ContactType, string>> = {};
    editor.errors = {};
    editor.fine = {};
    for (const [role, value] of Object.entries(editor.values) as [ContactType, string][]) {
      if (!value) continue;
      if (HANDLE.test(value)) body[role] = value.toLowerCase();
      else editor.errors[role] = t('handleFormat');
    }
    editor.preview = undefined;
    if (Object.keys(body).length === 0) {
      draw();
      return undefined;
    }
    const { serviceType, serviceName } = editor.service;
    const response = await api<ChangeCheck>(
      'POST',
      `/1.0/${serviceType}/${encodeURIComponent(serviceName)}/changeContact/check`,
      body,
    );
    if (state.editor !== editor) return undefined;
    if (!response.ok) {
      editor.message = errorText(response.body);
      draw();
      return undefined;
    }
    for (const role of Object.keys(body) as ContactType[]) {
      const problem = response.body.problems[role];
      if (problem) editor.errors[role] = problemText(problem);
      else editor.fine[role] = t('checkOk', { handle: body[role] });
    }
    editor.preview = response.body.tasks;
    draw();
    return response.body;
  }

  async function submitChange(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const editor = state.editor;
    if (!editor) return;
    const values = new FormData(event.target as HTMLFormElement);
    const body: Partial<Record<ContactType, string>> = {};
    for (const role of editableRoles(editor.service)) {
      const value = String(values.get(role) ?? '').trim();
      editor.values[role] = value;
      if (value) body[role] = value;
    }
    editor.message = '';
    clearTimeout(checkTimer);
    if (Object.keys(body).length > 0) {
      await check(editor);
      const wrong = editableRoles(editor.service).filter((role) => editor.errors[role]);
      if (wrong.length > 0) {
        announce(wrong.map((role) => editor.errors[role]).join(' '));
        focusOn(`#new-${wrong[0]}`);
        return;
      }
    }
    const { serviceType, serviceName } = editor.service;
    const response = await api<string[] | number[]>(
      'POST',
      // the type is the family's path ("dedicated/server"), one of the API's own routes
      `/1.0/${serviceType}/${encodeURIComponent(serviceName)}/changeContact`,
      body,
    );
    editor.errors = {};
    if (!response.ok) {
      const text = errorText(response.body);
      const message = String(response.body?.message ?? '').toLowerCase();
      const filled = (Object.keys(body) as ContactType[]).filter((role) => body[role]);
      const culprit = filled.find((role) => message.includes(String(body[role]).toLowerCase())) ?? filled[0];
      if (culprit) editor.errors[culprit] = text;
      else editor.message = text;
      draw();
      announce(text);
      focusOn(`#new-${culprit ?? editableRoles(editor.service)[0]}`);
      return;
    }
    const ids = response.body.map(String);
    const lines = [t('created', { ids: ids.join(', ') })];
    for (const id of ids) {
      const task = await api<TaskResponse>('GET', `/1.0/me/task/contactChange/${id}`);
      if (task.ok) {
        const validators = task.body.validators.map((v) => v.handle);
        const key = validators.length === 1 ? 'mustValidateOne' : 'mustValidate';
        lines.push(t(key, { id, validators: validators.join(', ') }));
      }
    }
    editor.created = lines;
    draw();
    focusOn('#editor-result');
    void loadOpenRequests();
  }

  const menuId = (name: string) => `menu-${name.replace(/[^\w-]/g, '_')}`;

  const openRequests = (service: Service) =>
    (openByService.get(service.serviceName) ?? []).map(
      (task) =>
        html`<a
            class="open-request"
            href=${task.moveId === undefined ? `/validate/${task.id}` : `/moves/${task.moveId}`}
            >${t(task.moveId === undefined ? 'openRequestOnRow' : 'openMoveOnRow', {
              move: task.moveId,
              id: task.id,
              roles: task.contactTypes.map(roleName).join(', '),
              to: task.toAccount,
            })}</a
          >${
            task.needsAttention
              ? html`<span class="open-request attention"
                  >${t('attentionOnRow', { handles: task.needsAttention.handles.join(', ') })}</span
                >`
              : nothing
          }`,
    );

  const row = (service: Service) => {
    const id = menuId(service.serviceName);
    const open = state.openMenu === service.serviceName;
    const cells = [
      serviceTypeName(service.serviceType),
      service.contactAdmin,
      service.contactTech,
      service.contactBilling,
      service.myRoles.map(roleName).join(', '),
    ];
    const editing = state.editor?.service.serviceName === service.serviceName;
    return html`<tr>
        <td data-label=${t('colSelect')} class="select">
          <input
            type="checkbox"
            aria-label=${t('selectService', { service: service.serviceName })}
            .checked=${isSelected(service.serviceName)}
            ?disabled=${state.selection.kind === 'filter'}
            @change=${(e: Event) => select(service.serviceName, (e.target as HTMLInputElement).checked)}
          />
        </td>
        <th scope="row" data-label=${t('colService')}>${service.serviceName} ${openRequests(service)}</th>
        ${cells.map((value, i) => html`<td data-label=${t(COLUMNS[i + 1])}>${value}</td>`)}
        <td data-label=${t('colActions')} class="actions">
          <button
            type="button"
            class="more"
            aria-haspopup="true"
            aria-expanded=${String(open)}
            aria-controls=${id}
            aria-label=${t('actionsFor', { service: service.serviceName })}
            @click=${() => toggleMenu(service.serviceName)}
          >
            …
          </button>
          <div
            id=${id}
            class="menu"
            ?hidden=${!open}
            @keydown=${(e: KeyboardEvent) => closeMenu(e, service.serviceName)}
          >
            <button type="button" @click=${() => openEditor(service)}>${t('modifyContacts')}</button>
          </div>
        </td>
      </tr>
      ${
        editing && state.editor
          ? html`<tr class="editor-row">
              <td colspan="8">${keyed(service.serviceName, editorSection(state.editor))}</td>
            </tr>`
          : nothing
      }`;
  };

  const table = () => {
    if (state.error) return statusLine(state.error, 'error');
    const items = state.page?.items;
    if (!items) return nothing;
    if (items.length === 0) return html`<p>${t('noServices')}</p>`;
    return html`<table>
      <caption class="visually-hidden">
        ${t('contactsTitle')}
      </caption>
      <thead>
        <tr>
          <th scope="col"><span class="visually-hidden">${t('colSelect')}</span></th>
          ${[...COLUMNS, 'colActions' as const].map((c) => html`<th scope="col">${t(c)}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${items.map(row)}
      </tbody>
    </table>`;
  };

  const pager = () =>
    html`<div class="pager">
      <button
        type="button"
        ?disabled=${state.cursors.length === 0}
        @click=${() => {
          state.cursor = state.cursors.pop();
          void load();
        }}
      >
        ${t('previous')}
      </button>
      <button
        type="button"
        ?disabled=${!state.page?.nextCursor}
        @click=${() => {
          state.cursors.push(state.cursor);
          state.cursor = state.page?.nextCursor ?? undefined;
          void load();
        }}
      >
        ${t('next')}
      </button>
    </div>`;

  const preview = (editor: Editor) => {
    const tasks = editor.preview ?? [];
    if (tasks.length === 0) return nothing;
    const validators = [...new Set(tasks.flatMap((task) => task.validators))];
    const informed = [...new Set(tasks.flatMap((task) => task.informed))];
    return html`<div class="preview" role="status">
      <h3>${t('previewTitle')}</h3>
      <p>${t('willValidate', { handles: validators.join(', ') })}</p>
      ${informed.length ? html`<p>${t('willBeInformed', { handles: informed.join(', ') })}</p>` : nothing}
    </div>`;
  };

  const editorSection = (editor: Editor) =>
    html`<section class="editor" aria-labelledby="editor-title">
      <h2 id="editor-title" tabindex="-1">${t('modifyTitle', { service: editor.service.serviceName })}</h2>
      <p>${t('modifyIntro')}</p>
      ${
        editor.created
          ? html`<div id="editor-result" class="status success" role="status" tabindex="-1">
              ${editor.created.map((line) => html`<p>${line}</p>`)}
              <p><a href="/requests">${t('menuRequests')}</a></p>
            </div>`
          : html`<form novalidate @submit=${submitChange}>
              ${editableRoles(editor.service).map((role) =>
                field(
                  `new-${role}`,
                  t(NEW_HOLDER_TEXT[role]),
                  (a) =>
                    html`<input
                      id=${a.id}
                      name=${role}
                      autocapitalize="none"
                      autocomplete="off"
                      spellcheck="false"
                      aria-describedby=${a.describedBy}
                      aria-invalid=${a.invalid}
                      @input=${(e: Event) => typed(role, (e.target as HTMLInputElement).value)}
                    />`,
                  {
                    hint: t('current', { handle: editor.service[role] }),
                    error: editor.errors[role],
                    extra: editor.fine[role]
                      ? html`<p class="field-ok" aria-live="polite">${editor.fine[role]}</p>`
                      : nothing,
                  },
                ),
              )}
              ${preview(editor)} ${editor.message ? statusLine(editor.message, 'error') : nothing}
              <div class="buttons">
                <button type="submit">${t('confirm')}</button>
                <button
                  type="button"
                  class="secondary"
                  @click=${() => {
                    state.editor = undefined;
                    draw();
                  }}
                >
                  ${t('cancel')}
                </button>
              </div>
            </form>`
      }
    </section>`;

  /** What is selected, "select all matching the filter", and "Move contacts…". */
  const selectionBar = () => {
    if (!state.page?.items.length) return nothing;
    const count = selectedCount();
    const all = state.selection.kind === 'filter';
    return html`<div class="selection-bar" role="group" aria-label=${t('selectionTitle')}>
      <p role="status">
        ${all ? t('selectedAllMatching') : count ? t('selectedCount', { count }) : t('selectedNone')}
      </p>
      <div class="buttons">
        ${
          all
            ? html`<button type="button" class="secondary" @click=${clearSelection}>
                ${t('clearSelection')}
              </button>`
            : html`<button type="button" class="secondary" @click=${selectAllMatching}>
                  ${t('selectAllMatching')}
                </button>
                ${
                  count
                    ? html`<button type="button" class="secondary" @click=${clearSelection}>
                        ${t('clearSelection')}
                      </button>`
                    : nothing
                }`
        }
        <button type="button" id="move-open" ?disabled=${count === 0} @click=${openMover}>
          ${t('moveContacts')}
        </button>
      </div>
    </div>`;
  };

  const draw = () =>
    render(
      html`<h1 tabindex="-1">${t('contactsTitle')}</h1>
        <p>${t('contactsIntro')}</p>
        <form class="filters" @submit=${applyFilters}>
          ${field(
            'filter-type',
            t('filterType'),
            (a) =>
              html`<select id=${a.id} name="type">
                ${['', ...SERVICE_TYPES.map((s) => s.type)].map(
                  (v) =>
                    html`<option value=${v} ?selected=${filters.type === v}>
                      ${v ? serviceTypeName(v) : t('filterAll')}
                    </option>`,
                )}
              </select>`,
          )}
          ${field(
            'filter-role',
            t('filterRole'),
            (a) =>
              html`<select id=${a.id} name="role">
                ${['' as const, ...data.contactTypes].map(
                  (v) =>
                    html`<option value=${v} ?selected=${filters.role === v}>
                      ${v ? roleName(v) : t('filterAll')}
                    </option>`,
                )}
              </select>`,
          )}
          ${field(
            'filter-name',
            t('filterName'),
            (a) => html`<input id=${a.id} name="name" type="search" .value=${filters.name} />`,
          )}
          <button type="submit">${t('filterApply')}</button>
        </form>
        ${selectionBar()} ${state.mover ? state.mover.view() : nothing}
        <div class="table-box">${table()}</div>
        ${pager()}`,
      main,
    );

  setTitle(t('contactsTitle'));
  main.replaceChildren();
  draw();
  await Promise.all([load(), loadOpenRequests()]);
}
