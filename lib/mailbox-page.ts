import express from 'express';
import { escapeHtml } from './html';
import type { Mailbox } from './mailbox';

const linkify = (text: string) => escapeHtml(text).replace(/(https?:\/\/[^\s<]+)/g, '<a href="$1">$1</a>');

/** The local mailbox's web page: newest mail first, each readable in full, links clickable. */
export function mailboxPage(mailbox: Mailbox) {
  const app = express();
  app.get('/api/messages', (_req, res) => {
    res.json(mailbox.messages());
  });
  app.get('/', (_req, res) => {
    const rows = mailbox
      .messages()
      .reverse()
      .map(
        (m) =>
          `<article><header><strong>${escapeHtml(m.subject)}</strong><br><small>To ${escapeHtml(m.to.join(', '))} · ${escapeHtml(
            m.date,
          )}</small></header><pre>${linkify(m.text)}</pre></article>`,
      )
      .join('\n');
    res.type('html')
      .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local mailbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#111}
article{border:1px solid #bbb;border-radius:6px;margin:1rem 0;padding:.75rem}pre{white-space:pre-wrap;font-family:inherit}</style>
</head><body><h1>Local mailbox</h1><p>Every email the service sent (${mailbox.messages().length}). Reload to see new mail.</p>
${rows || '<p>No mail yet.</p>'}</body></html>`);
  });
  return app;
}
