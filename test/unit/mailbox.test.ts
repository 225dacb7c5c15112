import nodemailer from 'nodemailer';
import request from 'supertest';
import { startMailbox } from '../../lib/mailbox';
import { mailboxPage } from '../../lib/mailbox-page';

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
