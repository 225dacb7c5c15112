import type { z } from 'zod';
import type { PortalData } from '../api/portal/page-data';
import { SERVICE_TYPE_NAMES, TEXTS, type PortalLanguage, type TextKey } from '../api/portal/i18n';
import type { errorResponse, meResponse } from '../api/schemas';
import type { ContactType } from '../workflows/contact-change.messages';

export type Session = z.infer<typeof meResponse> & { csrfToken: string };
export type ApiErrorBody = z.infer<typeof errorResponse> & Record<string, unknown>;

const dataElement = document.getElementById('portal-data');
export const data = JSON.parse(dataElement?.textContent ?? '{}') as PortalData;

/** The state every page shares: the language shown and the logged-in account (null on the login page). */
export const app: { language: PortalLanguage; session: Session | null } = {
  language: data.language,
  session: null,
};

export function setLanguage(language: PortalLanguage): void {
  app.language = language;
  document.documentElement.lang = language;
}

export type TextVars = Record<string, string | number | undefined>;

export function t(key: TextKey, vars?: TextVars): string {
  return TEXTS[app.language][key].replace(/\{(\w+)\}/g, (_, name: string) =>
    vars?.[name] !== undefined ? String(vars[name]) : '',
  );
}

export const hasText = (key: string): key is TextKey => key in TEXTS[app.language];

export const formatDate = (iso: string | undefined) =>
  iso ? new Date(iso).toLocaleString(app.language, { dateStyle: 'medium', timeStyle: 'short' }) : '';

const ROLE_TEXT: Record<ContactType, TextKey> = {
  contactAdmin: 'roleAdmin',
  contactTech: 'roleTech',
  contactBilling: 'roleBilling',
};
export const roleName = (role: ContactType) => t(ROLE_TEXT[role]);

export type ApiResult<T> =
  { ok: true; status: number; body: T } | { ok: false; status: number; body: ApiErrorBody | null };

/** The JSON API with the session cookie; writes carry the session's CSRF token. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (app.session && method !== 'GET') headers['X-CSRF-Token'] = app.session.csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload: unknown = response.status === 204 ? null : await response.json().catch(() => null);
  // The exact wait a refusal names in its Retry-After header (429, 503), for errorText to say it.
  const retryAfter = Number(response.headers.get('Retry-After'));
  if (!response.ok && payload && typeof payload === 'object' && retryAfter > 0)
    (payload as ApiErrorBody).retryAfterSeconds ??= retryAfter;
  return response.ok
    ? { ok: true, status: response.status, body: payload as T }
    : { ok: false, status: response.status, body: payload as ApiErrorBody | null };
}

export const serviceTypeName = (type: string) => SERVICE_TYPE_NAMES[app.language][type] ?? type;

/** Seconds to wait, from the answer's own figure or its Retry-After, when the API gives one. */
function waitSeconds(body: ApiErrorBody): number | undefined {
  const ms = body.retryAfterMs ?? body.waitMs;
  if (typeof ms === 'number') return Math.max(1, Math.ceil(ms / 1000));
  const seconds = body.retryAfterSeconds ?? body.retryAfter ?? body.waitSeconds;
  return typeof seconds === 'number' ? Math.max(1, Math.ceil(seconds)) : undefined;
}

/** The error in the person's language: every reason the API gives has a text; anything else is generic. */
export function errorText(body: ApiErrorBody | null): string {
  if (!body) return t('genericError');
  if (body.reason === 'taskAlreadyOpen' && typeof body.taskId === 'number')
    return t('error_taskAlreadyOpenId', { taskId: body.taskId });
  if (body.reason === 'billingInArrears' && app.session?.billingStanding === 'arrears')
    return t('error_billingInArrearsMine');
  const seconds = body.reason === 'resendTooSoon' ? waitSeconds(body) : undefined;
  if (seconds !== undefined) return t('error_resendTooSoonExact', { seconds });
  const key = `error_${body.reason}`;
  return hasText(key) ? t(key, body as TextVars) : t('genericError');
}

/** Says a message to screen readers through the page's polite live region. */
export function announce(message: string): void {
  const announcer = document.getElementById('announcer');
  if (!announcer) return;
  announcer.textContent = '';
  setTimeout(() => (announcer.textContent = message), 50);
}

export const main = document.getElementById('main') as HTMLElement;

export function setTitle(text: string): void {
  document.title = `${text} · ${t('appName')}`;
}

/** Moves focus to an element once it is drawn (a page's heading, an action's result), never leaving it on the body. */
export function focusOn(selector: string): void {
  const target = document.querySelector<HTMLElement>(selector);
  if (!target) return;
  if (!target.matches('a, button, input, select, textarea, [tabindex]')) target.tabIndex = -1;
  target.focus();
}

/** Keeps a page's state in its address (filters, tabs), so it survives a reload and can be shared. */
export function setQuery(values: Record<string, string>): void {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value) query.set(name, value);
  const search = query.toString();
  history.replaceState(null, '', location.pathname + (search ? `?${search}` : ''));
}
