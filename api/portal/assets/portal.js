'use strict';
// The portal: plain DOM code over the JSON API (session cookie + CSRF token). Texts come from the page.
(function () {
  const data = JSON.parse(document.getElementById('portal-data').textContent);
  let lang = data.language;
  let session = null;
  const main = document.getElementById('main');

  const t = (key, vars) =>
    (data.texts[lang][key] || key).replace(/\{(\w+)\}/g, (_, name) =>
      vars && vars[name] !== undefined ? String(vars[name]) : '',
    );

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === undefined || value === null) continue;
      if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
      else if (name === 'text') el.textContent = value;
      else el.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children.flat(Infinity))
      if (child !== null && child !== undefined && child !== false) el.append(child);
    return el;
  }

  const formatDate = (iso) =>
    iso ? new Date(iso).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' }) : '';
  const roleName = (type) =>
    t({ contactAdmin: 'roleAdmin', contactTech: 'roleTech', contactBilling: 'roleBilling' }[type]);
  const announce = (message) => {
    const announcer = document.getElementById('announcer');
    announcer.textContent = '';
    setTimeout(() => (announcer.textContent = message), 50);
  };

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (session && method !== 'GET') headers['X-CSRF-Token'] = session.csrfToken;
    const response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const payload = response.status === 204 ? null : await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, body: payload };
  }

  function errorText(body) {
    if (!body) return t('genericError');
    const key = 'error_' + body.reason;
    return data.texts[lang][key] ? t(key, body) : body.message || t('genericError');
  }

  function fieldError(input, message) {
    const id = input.id + '-error';
    let box = document.getElementById(id);
    if (!box) {
      box = h('p', { id, class: 'field-error', role: 'alert' });
      input.closest('.field').append(box);
    }
    box.textContent = message || '';
    if (message) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', id);
    } else {
      input.removeAttribute('aria-invalid');
    }
  }

  function field(id, label, input, hint) {
    input.id = id;
    const parts = [h('label', { for: id, text: label }), input];
    if (hint) {
      parts.push(h('small', { id: id + '-hint', class: 'hint', text: hint }));
      input.setAttribute('aria-describedby', id + '-hint');
    }
    return h('div', { class: 'field' }, parts);
  }

  function status(el, message, kind) {
    el.textContent = message;
    el.className = 'status ' + (kind || '');
    if (message) announce(message);
  }

  function renderHeader() {
    const header = document.getElementById('header');
    header.replaceChildren(
      h('div', { class: 'brand', text: t('appName') }),
      session
        ? h(
            'nav',
            { 'aria-label': t('appName') },
            h(
              'ul',
              {},
              [
                ['/contacts', 'menuContacts', 'contacts'],
                ['/requests', 'menuRequests', 'requests'],
                ['/profile', 'menuProfile', 'profile'],
              ].map(([href, key, page]) =>
                h(
                  'li',
                  {},
                  h('a', { href, 'aria-current': data.page === page ? 'page' : false, text: t(key) }),
                ),
              ),
            ),
            h('span', { class: 'account', text: session.nichandle }),
            h('button', { type: 'button', class: 'link', onclick: logout, text: t('logout') }),
          )
        : null,
    );
  }

  async function logout() {
    await api('POST', '/auth/logout');
    location.href = '/login';
  }

  function setTitle(key, vars) {
    const title = h('h1', { text: t(key, vars) });
    document.title = t(key, vars) + ' · ' + t('appName');
    return title;
  }

  // ---- login
  function loginPage() {
    const next = new URLSearchParams(location.search).get('next');
    const handle = h('input', {
      name: 'handle',
      autocomplete: 'username',
      required: true,
      autocapitalize: 'none',
      spellcheck: 'false',
    });
    const password = h('input', {
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
    });
    const message = h('p', { class: 'status', role: 'alert' });
    const form = h(
      'form',
      { novalidate: true, onsubmit: submit },
      field('handle', t('handle'), handle, t('handleHint')),
      field('password', t('password'), password),
      message,
      h('button', { type: 'submit', text: t('loginButton') }),
    );
    async function submit(event) {
      event.preventDefault();
      const response = await api('POST', '/auth/login', {
        handle: handle.value.trim(),
        password: password.value,
      });
      if (response.ok) {
        location.href = next && next.startsWith('/') && !next.startsWith('//') ? next : '/contacts';
        return;
      }
      const text = response.status === 429 ? t('rateLimited') : t('badCredentials');
      status(message, text, 'error');
      fieldError(password, text);
      password.focus();
    }
    main.replaceChildren(setTitle('loginTitle'), form);
    handle.focus();
  }

  // ---- contact management
  async function contactsPage() {
    const state = { cursors: [], cursor: undefined };
    const type = h(
      'select',
      { name: 'type' },
      ['', 'domain', 'dedicated', 'vps', 'hosting'].map((v) =>
        h('option', { value: v, text: v || t('filterAll') }),
      ),
    );
    const role = h(
      'select',
      { name: 'role' },
      ['', 'contactAdmin', 'contactTech', 'contactBilling'].map((v) =>
        h('option', { value: v, text: v ? roleName(v) : t('filterAll') }),
      ),
    );
    const name = h('input', { name: 'name', type: 'search' });
    const filters = h(
      'form',
      {
        class: 'filters',
        onsubmit: (e) => {
          e.preventDefault();
          state.cursors = [];
          state.cursor = undefined;
          load();
        },
      },
      field('filter-type', t('filterType'), type),
      field('filter-role', t('filterRole'), role),
      field('filter-name', t('filterName'), name),
      h('button', { type: 'submit', text: t('filterApply') }),
    );
    const tableBox = h('div', { class: 'table-box' });
    const pager = h('div', { class: 'pager' });
    const editor = h('section', { class: 'editor', hidden: true, 'aria-labelledby': 'editor-title' });
    main.replaceChildren(
      setTitle('contactsTitle'),
      h('p', { text: t('contactsIntro') }),
      filters,
      tableBox,
      pager,
      editor,
    );

    async function load() {
      const query = new URLSearchParams({ limit: '25' });
      if (type.value) query.set('type', type.value);
      if (role.value) query.set('role', role.value);
      if (name.value.trim()) query.set('name', name.value.trim());
      if (state.cursor) query.set('cursor', state.cursor);
      const response = await api('GET', '/1.0/me/contactManagement/services?' + query);
      if (!response.ok) return status(tableBox, errorText(response.body), 'error');
      renderTable(response.body.items);
      pager.replaceChildren(
        h('button', {
          type: 'button',
          disabled: state.cursors.length === 0,
          onclick: () => {
            state.cursor = state.cursors.pop();
            load();
          },
          text: t('previous'),
        }),
        h('button', {
          type: 'button',
          disabled: !response.body.nextCursor,
          onclick: () => {
            state.cursors.push(state.cursor);
            state.cursor = response.body.nextCursor;
            load();
          },
          text: t('next'),
        }),
      );
    }

    function renderTable(items) {
      if (items.length === 0) return tableBox.replaceChildren(h('p', { text: t('noServices') }));
      const columns = [
        'colService',
        'colType',
        'colAdmin',
        'colTech',
        'colBilling',
        'colMyRoles',
        'colActions',
      ];
      tableBox.replaceChildren(
        h(
          'table',
          {},
          h('caption', { class: 'visually-hidden', text: t('contactsTitle') }),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              columns.map((c) => h('th', { scope: 'col', text: t(c) })),
            ),
          ),
          h(
            'tbody',
            {},
            items.map((s) => {
              const menuId = 'menu-' + s.serviceName.replace(/[^\w-]/g, '_');
              const toggle = h('button', {
                type: 'button',
                class: 'more',
                'aria-haspopup': 'true',
                'aria-expanded': 'false',
                'aria-controls': menuId,
                'aria-label': t('actionsFor', { service: s.serviceName }),
                text: '…',
              });
              const menu = h(
                'div',
                { id: menuId, class: 'menu', hidden: true },
                h('button', {
                  type: 'button',
                  onclick: () => {
                    closeMenu();
                    openEditor(s);
                  },
                  text: t('modifyContacts'),
                }),
              );
              const closeMenu = () => {
                menu.hidden = true;
                toggle.setAttribute('aria-expanded', 'false');
              };
              toggle.addEventListener('click', () => {
                menu.hidden = !menu.hidden;
                toggle.setAttribute('aria-expanded', String(!menu.hidden));
                if (!menu.hidden) menu.querySelector('button').focus();
              });
              menu.addEventListener('keydown', (e) => {
                if (e.key === 'Escape') {
                  closeMenu();
                  toggle.focus();
                }
              });
              const cells = [
                s.serviceName,
                s.serviceType,
                s.contactAdmin,
                s.contactTech,
                s.contactBilling,
                s.myRoles.map(roleName).join(', '),
              ];
              return h(
                'tr',
                {},
                cells.map((value, i) =>
                  h(i === 0 ? 'th' : 'td', {
                    scope: i === 0 ? 'row' : false,
                    'data-label': t(columns[i]),
                    text: value,
                  }),
                ),
                h('td', { 'data-label': t('colActions'), class: 'actions' }, toggle, menu),
              );
            }),
          ),
        ),
      );
    }

    function openEditor(service) {
      const isAdmin = service.myRoles.includes('contactAdmin');
      const editable = ['contactAdmin', 'contactTech', 'contactBilling'].filter(
        (r) => isAdmin || (r !== 'contactAdmin' && service.myRoles.includes(r)),
      );
      const labels = { contactAdmin: 'newAdmin', contactTech: 'newTech', contactBilling: 'newBilling' };
      const inputs = {};
      const message = h('div', { class: 'status', role: 'alert' });
      const form = h(
        'form',
        { novalidate: true, onsubmit: submit },
        editable.map((r) => {
          inputs[r] = h('input', { name: r, autocapitalize: 'none', spellcheck: 'false' });
          return field('new-' + r, t(labels[r]), inputs[r], t('current', { handle: service[r] }));
        }),
        message,
        h(
          'div',
          { class: 'buttons' },
          h('button', { type: 'submit', text: t('confirm') }),
          h('button', {
            type: 'button',
            class: 'secondary',
            onclick: () => {
              editor.hidden = true;
            },
            text: t('cancel'),
          }),
        ),
      );
      editor.replaceChildren(
        h('h2', {
          id: 'editor-title',
          tabindex: '-1',
          text: t('modifyTitle', { service: service.serviceName }),
        }),
        h('p', { text: t('modifyIntro') }),
        form,
      );
      editor.hidden = false;
      editor.querySelector('h2').focus();

      async function submit(event) {
        event.preventDefault();
        const body = {};
        for (const [r, input] of Object.entries(inputs)) {
          fieldError(input, '');
          if (input.value.trim()) body[r] = input.value.trim();
        }
        const response = await api(
          'POST',
          '/1.0/' +
            encodeURIComponent(service.serviceType) +
            '/' +
            encodeURIComponent(service.serviceName) +
            '/changeContact',
          body,
        );
        if (!response.ok) {
          const text = errorText(response.body);
          const culprit =
            Object.values(inputs).find(
              (i) => i.value.trim() && (response.body?.message || '').includes(i.value.trim().toLowerCase()),
            ) ||
            Object.values(inputs).find((i) => i.value.trim()) ||
            Object.values(inputs)[0];
          fieldError(culprit, text);
          culprit.focus();
          return status(message, text, 'error');
        }
        const lines = [t('created', { ids: response.body.join(', ') })];
        for (const id of response.body) {
          const task = await api('GET', '/1.0/me/task/contactChange/' + id);
          if (task.ok)
            lines.push(
              t('mustValidate', { id, validators: task.body.validators.map((v) => v.handle).join(', ') }),
            );
        }
        form.replaceWith(
          h(
            'div',
            { class: 'status success', role: 'status' },
            lines.map((l) => h('p', { text: l })),
            h('p', {}, h('a', { href: '/requests', text: t('menuRequests') })),
          ),
        );
        announce(lines.join(' '));
      }
    }

    await load();
  }

  // ---- one task, as a card with its actions
  function taskCard(task, options) {
    const me = session.nichandle;
    const mine = task.validators.find((v) => v.handle === me);
    const open = task.open;
    const message = h('p', { class: 'status', role: 'status' });
    const rows = [
      ['service', task.serviceDomain + ' (' + task.serviceType + ')'],
      [
        'change',
        t('changeText', {
          roles: task.contactTypes.map(roleName).join(', '),
          from: task.fromAccount,
          to: task.toAccount,
        }),
      ],
      ['askedBy', task.askingAccount],
      ['state', t('state_' + task.state) + (task.reason ? ' — ' + t('reason_' + task.reason) : '')],
      ['requestedOn', formatDate(task.dateRequest)],
      task.dateDone ? ['doneOn', formatDate(task.dateDone)] : ['expiresOn', formatDate(task.expiresAt)],
    ];
    const card = h(
      'article',
      { class: 'task', 'aria-labelledby': 'task-' + task.id },
      h(options.headingLevel || 'h2', { id: 'task-' + task.id, text: t('request', { id: task.id }) }),
      h(
        'dl',
        {},
        rows.map(([key, value]) => [h('dt', { text: t(key) }), h('dd', { text: value })]),
      ),
      h('h3', { text: t('validators') }),
      h(
        'ul',
        { class: 'validators' },
        task.validators.map((v) =>
          h('li', {
            class: v.status,
            text: t(
              { accepted: 'validatorAccepted', refused: 'validatorRefused', pending: 'validatorPending' }[
                v.status
              ],
              { handle: v.handle },
            ),
          }),
        ),
      ),
    );
    if (open && mine && mine.status === 'accepted' && task.awaiting.length > 0)
      card.append(h('p', { class: 'note', text: t('waitingForOther') }));
    if (open && mine && mine.status === 'pending')
      card.append(decisionForm(task, options.code || '', message));
    const actions = h('div', { class: 'buttons' });
    if (open && (mine?.status === 'pending' || task.askingAccount === me)) {
      actions.append(
        h('button', {
          type: 'button',
          class: 'secondary',
          onclick: async () => {
            const response = await api('POST', '/1.0/me/task/contactChange/' + task.id + '/resendEmail');
            status(
              message,
              response.ok
                ? t('resent', { handles: response.body.resentTo.join(', ') })
                : errorText(response.body),
              response.ok ? 'success' : 'error',
            );
          },
          text: t('resend'),
        }),
      );
    }
    if (task.canCancel) {
      actions.append(
        h('button', {
          type: 'button',
          class: 'secondary',
          onclick: async () => {
            const response = await api('POST', '/1.0/me/task/contactChange/' + task.id + '/cancel');
            if (response.ok) card.replaceWith(taskCard(response.body, options));
            else status(message, errorText(response.body), 'error');
          },
          text: t('cancelRequest'),
        }),
      );
    }
    if (actions.children.length) card.append(actions);
    card.append(message);
    return card;
  }

  function decisionForm(task, code, message) {
    const input = h('input', {
      name: 'token',
      value: code,
      autocomplete: 'one-time-code',
      autocapitalize: 'characters',
      spellcheck: 'false',
      required: true,
    });
    const decide = async (decision) => {
      fieldError(input, '');
      const response = await api('POST', '/1.0/me/task/contactChange/' + task.id + '/' + decision, {
        token: input.value.trim(),
      });
      if (!response.ok) {
        const text = errorText(response.body);
        fieldError(input, text);
        input.focus();
        return announce(text);
      }
      sessionStorage.removeItem('code:' + task.id);
      const card = input.closest('article');
      const fresh = taskCard(response.body.task, { headingLevel: card.querySelector('h1') ? 'h1' : 'h2' });
      card.replaceWith(fresh);
      status(
        fresh.querySelector('.status'),
        t(decision === 'accept' ? 'accepted' : 'refusedDone'),
        'success',
      );
    };
    return h(
      'form',
      {
        class: 'decision',
        novalidate: true,
        onsubmit: (e) => {
          e.preventDefault();
          decide('accept');
        },
      },
      h('p', { class: 'note', text: t('waitingForYou') }),
      field('token-' + task.id, t('code'), input, t('codeHint')),
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'submit', text: t('accept') }),
        h('button', { type: 'button', class: 'danger', onclick: () => decide('refuse'), text: t('refuse') }),
      ),
    );
  }

  // ---- my requests
  async function requestsPage() {
    main.replaceChildren(setTitle('requestsTitle'), h('p', { text: t('requestsIntro') }));
    const ids = await api('GET', '/1.0/me/task/contactChange');
    if (!ids.ok) return main.append(h('p', { class: 'status error', text: errorText(ids.body) }));
    if (ids.body.length === 0) return main.append(h('p', { text: t('noRequests') }));
    const tasks = (
      await Promise.all(ids.body.slice(0, 50).map((id) => api('GET', '/1.0/me/task/contactChange/' + id)))
    )
      .filter((r) => r.ok)
      .map((r) => r.body);
    tasks.sort((a, b) => Number(b.open) - Number(a.open) || b.id - a.id);
    main.append(
      h(
        'div',
        { class: 'tasks' },
        tasks.map((task) => taskCard(task, { code: sessionStorage.getItem('code:' + task.id) || '' })),
      ),
    );
  }

  // ---- validation page opened from the email link
  async function validatePage() {
    const id = data.params.taskId;
    const fromLink = new URLSearchParams(location.hash.slice(1)).get('code');
    if (fromLink) {
      sessionStorage.setItem('code:' + id, fromLink);
      history.replaceState(null, '', location.pathname); // the code leaves the address bar and the history
    }
    const task = await api('GET', '/1.0/me/task/contactChange/' + encodeURIComponent(id));
    main.replaceChildren(setTitle('validateTitle'), h('p', { text: t('validateIntro') }));
    if (!task.ok)
      return main.append(h('p', { class: 'status error', role: 'alert', text: errorText(task.body) }));
    main.append(taskCard(task.body, { code: sessionStorage.getItem('code:' + id) || '' }));
  }

  // ---- profile
  function profilePage() {
    const email = h('input', {
      name: 'email',
      type: 'email',
      autocomplete: 'email',
      value: session.email,
      required: true,
    });
    const language = h(
      'select',
      { name: 'language' },
      ['es', 'en', 'fr'].map((l) =>
        h('option', {
          value: l,
          selected: session.language === l,
          text: { es: 'Español', en: 'English', fr: 'Français' }[l],
        }),
      ),
    );
    const message = h('p', { class: 'status', role: 'status' });
    const form = h(
      'form',
      {
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          fieldError(email, '');
          const response = await api('PUT', '/1.0/me', {
            email: email.value.trim(),
            language: language.value,
          });
          if (!response.ok) {
            fieldError(email, errorText(response.body));
            return email.focus();
          }
          const changedLanguage = response.body.language !== lang;
          session = { ...session, ...response.body };
          if (changedLanguage) {
            lang = response.body.language;
            document.documentElement.lang = lang;
            render();
          }
          status(main.querySelector('.status'), t('saved'), 'success');
        },
      },
      field('email', t('email'), email),
      field('language', t('language'), language),
      message,
      h('button', { type: 'submit', text: t('save') }),
    );
    main.replaceChildren(setTitle('profileTitle'), h('p', { text: t('profileIntro') }), form);
  }

  // ---- consumer-key approval for scripts
  function credentialPage() {
    const message = h('p', { class: 'status', role: 'status' });
    main.replaceChildren(
      setTitle('credentialTitle'),
      h('p', { text: t('credentialIntro') }),
      message,
      h('button', {
        type: 'button',
        onclick: async () => {
          const response = await api(
            'POST',
            '/auth/credential/' + encodeURIComponent(data.params.token) + '/validate',
          );
          status(
            message,
            response.ok ? t('allowed') : errorText(response.body),
            response.ok ? 'success' : 'error',
          );
          const redirection = new URLSearchParams(location.search).get('redirection');
          if (response.ok && redirection && /^https?:\/\//.test(redirection)) location.href = redirection;
        },
        text: t('allow'),
      }),
    );
  }

  const PAGES = {
    login: loginPage,
    contacts: contactsPage,
    requests: requestsPage,
    validate: validatePage,
    profile: profilePage,
    credential: credentialPage,
  };

  function render() {
    renderHeader();
    return PAGES[data.page]();
  }

  async function start() {
    const current = await api('GET', '/auth/session');
    session = current.ok ? current.body : null;
    if (session && session.language !== lang) {
      lang = session.language;
      document.documentElement.lang = lang;
    }
    if (!session && data.page !== 'login') {
      if (data.page === 'validate') {
        const code = new URLSearchParams(location.hash.slice(1)).get('code');
        if (code) sessionStorage.setItem('code:' + data.params.taskId, code);
      }
      location.href = '/login?next=' + encodeURIComponent(location.pathname);
      return;
    }
    await render();
    document.body.classList.add('ready');
  }

  start().catch(() =>
    main.replaceChildren(h('p', { class: 'status error', role: 'alert', text: t('genericError') })),
  );
})();
