import nodemailer from 'nodemailer';
import request from 'supertest';
import { startMailbox } from '../../lib/mailbox';
import { mailboxPage } from '../../lib/mailbox-page';
import { within } from '../helpers/wait';

test('the local mailbox keeps what it receives over SMTP and shows it on its page, links clickable', async () => {
  const mailbox = await startMailbox();
  const transport = nodemailer.createTransport(`smtp://127.0.0.1:${mailbox.port}`);
  try {
    await transport.sendMail({
      from: 'a@test',
      to: 'b@test',
      subject: 'Hello <there>',
      text: 'Open http://localhost:3000/validate/1#code=ABC',
    });
    const page = await request(mailboxPage(mailbox)).get('/').expect(200);
    expect(page.text).toContain('Hello &lt;there&gt;');
    expect(page.text).toContain('<a href="http://localhost:3000/validate/1#code=ABC">');
    expect((await request(mailboxPage(mailbox)).get('/api/messages').expect(200)).body[0]).toMatchObject({
      to: ['b@test'],
    });
  } finally {
    transport.close();
    await mailbox.close();
  }
});

describe('fault modes of the mailbox, as broken mail servers behave', () => {
  const send = (port: number, subject: string) => {
    const transport = nodemailer.createTransport(`smtp://127.0.0.1:${port}`);
    return transport
      .sendMail({ from: 'a@test', to: 'b@test', subject, text: 'hello' })
      .finally(() => transport.close());
  };
  /** The sender's promise with what it has come to so far: the tests look at it right after an event. */
  const watched = (sending: Promise<unknown>) => {
    const watch = { outcome: 'pending', sending };
    sending.then(
      () => (watch.outcome = 'sent'),
      () => (watch.outcome = 'failed'),
    );
    return watch;
  };

  test('refuses with the SMTP code asked for, then takes mail again', async () => {
    const mailbox = await startMailbox();
    try {
      mailbox.setFault({ refuse: 554 });
      await expect(send(mailbox.port, 'refused')).rejects.toMatchObject({ responseCode: 554 });
      mailbox.setFault(undefined);
      await send(mailbox.port, 'taken');
      expect(mailbox.messages().map((m) => m.subject)).toEqual(['taken']);
    } finally {
      await mailbox.close();
    }
  });

  test('refused at the end of the data: the mail is read whole, not kept, and the refusal names it', async () => {
    const mailbox = await startMailbox();
    try {
      mailbox.setFault({ refuse: 550, atEndOfData: true });
      const transport = nodemailer.createTransport(`smtp://127.0.0.1:${mailbox.port}`);
      await expect(
        transport
          .sendMail({ from: 'a@test', to: 'b@test', subject: 'x', text: 'hi', messageId: '<m-1@test>' })
          .finally(() => transport.close()),
      ).rejects.toMatchObject({ responseCode: 550 });
      mailbox.setFault({ refuse: 451 });
      await expect(send(mailbox.port, 'later')).rejects.toMatchObject({ responseCode: 451 });
      expect(mailbox.messages()).toEqual([]);
      expect(mailbox.refusals()).toMatchObject([
        { code: 550, messageId: '<m-1@test>', to: ['b@test'] },
        { code: 451, messageId: '', to: [] },
      ]);
    } finally {
      await mailbox.close();
    }
  });

  test('unresponsive: nothing is taken until the hang ends, then the waiting mail goes through', async () => {
    const mailbox = await startMailbox();
    try {
      mailbox.setFault({ hang: 'unresponsive' });
      const sender = watched(send(mailbox.port, 'late'));
      await within('the mailbox to hold back its greeting', mailbox.whenHolding(1));
      expect(sender.outcome).toBe('pending');
      expect(mailbox.messages()).toHaveLength(0);
      mailbox.setFault(undefined);
      await sender.sending;
      expect(mailbox.messages().map((m) => m.subject)).toEqual(['late']);
    } finally {
      await mailbox.close();
    }
  });

  test('after data: the mail is delivered but the sender is not told until the hang ends', async () => {
    const mailbox = await startMailbox();
    try {
      mailbox.setFault({ hang: 'afterData' });
      const sender = watched(send(mailbox.port, 'delivered'));
      await mailbox.waitFor((m) => m.subject === 'delivered');
      await within('the mailbox to hold back its answer to the data', mailbox.whenHolding(1));
      expect(sender.outcome).toBe('pending');
      mailbox.setFault(undefined);
      await sender.sending;
      expect(mailbox.messages()).toHaveLength(1);
    } finally {
      await mailbox.close();
    }
  });
});

test('senders that die in the middle of a session (connection reset) do not stop the mailbox', async () => {
  const mailbox = await startMailbox();
  const { createConnection } = await import('node:net');
  try {
    // As a worker SIGKILLed while sending leaves its session (npm run soak crashed so on 2026-12-07, 20:02).
    for (let i = 0; i < 3; i++) {
      const socket = createConnection(mailbox.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('data', resolve)); // the greeting
      socket.write('EHLO dying.test\r\n');
      await new Promise((resolve) => socket.once('data', resolve));
      // Within a mail's transaction: smtp-server reports a reset then (outside one it keeps quiet).
      socket.write('MAIL FROM:<a@test>\r\n');
      await new Promise((resolve) => socket.once('data', resolve));
      socket.resetAndDestroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const transport = nodemailer.createTransport(`smtp://127.0.0.1:${mailbox.port}`);
    await transport.sendMail({ from: 'a@test', to: 'b@test', subject: 'still here', text: 'hi' });
    transport.close();
    expect(mailbox.messages().map((m) => m.subject)).toEqual(['still here']);
  } finally {
    await mailbox.close();
  }
});
