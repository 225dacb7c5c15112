import request from 'supertest';
import type { Stack } from './stack';
import { PASSWORD } from './fixtures';

export interface Session {
  handle: string;
  agent: ReturnType<typeof request.agent>;
  csrf: string;
  get(path: string): request.Test;
  post(path: string, body?: object): request.Test;
  put(path: string, body?: object): request.Test;
}

export async function login(stack: Stack, handle: string): Promise<Session> {
  const agent = request.agent(stack.app);
  const response = await agent.post('/auth/login').send({ handle, password: PASSWORD }).expect(200);
  const csrf = response.body.csrfToken as string;
  return {
    handle,
    agent,
    csrf,
    get: (path) => agent.get(path),
    post: (path, body) =>
      agent
        .post(path)
        .set('X-CSRF-Token', csrf)
        .send(body ?? {}),
    put: (path, body) =>
      agent
        .put(path)
        .set('X-CSRF-Token', csrf)
        .send(body ?? {}),
  };
}

/** The task as this person sees it once it has ended (the change is applied after the last accept's answer). */
export async function endedTask(stack: Stack, session: Session, id: number) {
  await stack.taskEnded(id);
  return (await session.get(`/1.0/me/task/contactChange/${id}`).expect(200)).body;
}

/** Changes the account's email the way a person does: PUT /1.0/me, then the token mailed to the new address. */
export async function changeEmail(stack: Stack, session: Session, email: string): Promise<void> {
  const mark = stack.mailbox.messages().length;
  expect((await session.put('/1.0/me', { email }).expect(200)).body.pendingEmail).toBe(email);
  await confirmEmailFromMail(stack, session, email, mark);
}

export async function confirmEmailFromMail(stack: Stack, session: Session, email: string, mark: number) {
  const mail = await stack.mailbox.waitFor((m) => m.id > mark && m.to.includes(email));
  const token = /confirmEmail=([\w-]+)/.exec(mail.text)![1];
  await session.post('/1.0/me/email/confirm', { token }).expect(200);
}
