import { html, nothing, render } from 'lit-html';
import { keyed } from 'lit-html/directives/keyed.js';
import type { z } from 'zod';
import type { TextKey } from '../../api/portal/i18n';
import type { servicePage, serviceContactsResponse } from '../../api/schemas';
import { SERVICE_TYPES } from '../../domain/service-types';
import type { ContactType } from '../../workflows/contact-change.messages';
import type { TaskResponse } from './task';
import { announce, api, data, errorText, main, roleName, setTitle, t } from '../core';
import { field, statusLine } from '../ui';

type Service = z.infer<typeof serviceContactsResponse>;
type ServicePage = z.infer<typeof servicePage>;

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
  errors: Partial<Record<ContactType, string>>;
  message: string;
  created?: string[];
}

export async function contactsPage(): Promise<void> {
  const filters = { type: '', role: '', name: '' };
  const state: {
    cursors: (string | undefined)[];
    cursor?: string;
    page?: ServicePage;
    error: string;
    openMenu?: string;
    editor?: Editor;
  } = { cursors: [], error: '' };

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
    void load();
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
    state.editor = { service, errors: {}, message: '' };
    draw();
    main.querySelector<HTMLElement>('#editor-title')?.focus();
  }

  async function submitChange(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const editor = state.editor;
    if (!editor) return;
    const values = new FormData(event.target as HTMLFormElement);
    const body: Partial<Record<ContactType, string>> = {};
    for (const role of editableRoles(editor.service)) {
      const value = String(values.get(role) ?? '').trim();
      if (value) body[role] = value;
    }
    const { serviceType, serviceName } = editor.service;
    const response = await api<string[] | number[]>(
      'POST',
      // the type is the family's path ("dedicated/server"), one of the API's own routes
      `/1.0/${serviceType}/${encodeURIComponent(serviceName)}/changeContact`,
      body,
    );
    editor.errors = {};
    editor.message = '';
    if (!response.ok) {
      const text = errorText(response.body);
      const message = String(response.body?.message ?? '').toLowerCase();
      const filled = (Object.keys(body) as ContactType[]).filter((role) => body[role]);
      const culprit = filled.find((role) => message.includes(String(body[role]).toLowerCase())) ?? filled[0];
      if (culprit) editor.errors[culprit] = text;
      else editor.message = text;
      draw();
      announce(text);
      main.querySelector<HTMLInputElement>(`#new-${culprit ?? editableRoles(editor.service)[0]}`)?.focus();
      return;
    }
    const ids = response.body.map(String);
    const lines = [t('created', { ids: ids.join(', ') })];
    for (const id of ids) {
      const task = await api<TaskResponse>('GET', `/1.0/me/task/contactChange/${id}`);
      if (task.ok)
        lines.push(
          t('mustValidate', { id, validators: task.body.validators.map((v) => v.handle).join(', ') }),
        );
    }
    editor.created = lines;
    draw();
    announce(lines.join(' '));
  }

  const menuId = (name: string) => `menu-${name.replace(/[^\w-]/g, '_')}`;

  const row = (service: Service) => {
    const id = menuId(service.serviceName);
    const open = state.openMenu === service.serviceName;
    const cells = [
      service.serviceType,
      service.contactAdmin,
      service.contactTech,
      service.contactBilling,
      service.myRoles.map(roleName).join(', '),
    ];
    return html`<tr>
      <th scope="row" data-label=${t('colService')}>${service.serviceName}</th>
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
    </tr>`;
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

  const editorSection = (editor: Editor) =>
    html`<section class="editor" aria-labelledby="editor-title">
      <h2 id="editor-title" tabindex="-1">${t('modifyTitle', { service: editor.service.serviceName })}</h2>
      <p>${t('modifyIntro')}</p>
      ${
        editor.created
          ? html`<div class="status success" role="status">
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
                      spellcheck="false"
                      aria-describedby=${a.describedBy}
                      aria-invalid=${a.invalid}
                    />`,
                  { hint: t('current', { handle: editor.service[role] }), error: editor.errors[role] },
                ),
              )}
              ${editor.message ? statusLine(editor.message, 'error') : nothing}
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

  const draw = () =>
    render(
      html`<h1>${t('contactsTitle')}</h1>
        <p>${t('contactsIntro')}</p>
        <form class="filters" @submit=${applyFilters}>
          ${field(
            'filter-type',
            t('filterType'),
            (a) =>
              html`<select id=${a.id} name="type">
                ${['', ...SERVICE_TYPES.map((s) => s.type)].map(
                  (v) =>
                    html`<option value=${v} ?selected=${filters.type === v}>${v || t('filterAll')}</option>`,
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
        <div class="table-box">${table()}</div>
        ${pager()}
        ${state.editor ? keyed(state.editor.service.serviceName, editorSection(state.editor)) : nothing}`,
      main,
    );

  setTitle(t('contactsTitle'));
  main.replaceChildren();
  draw();
  await load();
}
