import { MAIL_CLAIM_LEASE_MS } from '../../activities';
import { isPermanentSmtpFailure, type Mailer } from '../../activities/mailer';
import { ApplicationFailure } from '@temporalio/activity';
import { codeDigest, hashCode } from '../../lib/codes';
import { readCodeEmail, type Mailbox } from '../../lib/mailbox';
import type { OpenTaskArgs } from '../../workflows/contact-change.activities';
import { startActivities, type ActivitiesUnderTest } from '../helpers/activities';
import type { TestDatabase } from '../helpers/database';
import { contactsOf, createAccounts, createService } from '../helpers/fixtures';
import { eventually } from '../helpers/wait';

let env: ActivitiesUnderTest;
let database: TestDatabase;
let mailbox: Mailbox;
let mailer: Mailer;
let activities: ActivitiesUnderTest['activities'];
let codeHashKey: string;
let serviceId: number;
let run = 0;

beforeAll(async () => {
  env = await startActivities();
  ({ database, mailbox, mailer, activities, codeHashKey } = env);
  await createAccounts(database.db, [
    { handle: 'ad1-ovh', language: 'es' },
    { handle: 'te2-ovh', language: 'fr' },
    { handle: 'bi3-ovh' },
    { handle: 'ne4-ovh' },
  ]);
  serviceId = (
    await createService(database.db, {
      name: 'svc.example',
      admin: 'ad1-ovh',
      tech: 'te2-ovh',
      billing: 'bi3-ovh',
    })
  ).id;
});
afterAll(() => env?.close());

function openArgs(overrides: Partial<OpenTaskArgs> = {}): OpenTaskArgs {
  run += 1;
  return {
    serviceId,
    serviceType: 'domain',
    serviceName: 'svc.example',
    askingAccount: 'ad1-ovh',
    fromAccount: 'te2-ovh',
    toAccount: 'ne4-ovh',
    contactTypes: ['contactTech'],
    validators: ['ad1-ovh', 'ne4-ovh'],
    informed: ['te2-ovh'],
    expiryMs: 86_400_000,
    reminderBeforeExpiryMs: 3_600_000,
    resendMinIntervalMs: 1000,
    workflowId: `wf-${run}`,
    runId: `run-${run}`,
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    created: { dedupeKey: `created-${run}`, actor: 'ad1-ovh', action: 'created' },
    ...overrides,
  };
}

const audit = (key: string) => ({ dedupeKey: key, actor: 'system', action: 'test' });

/** The apply's arguments: both validators accepted, the new contact last. */
const applyArgs = (taskId: number, key: string) => ({
  taskId,
  accepted: {
    validators: [
      { handle: 'ad1-ovh', status: 'accepted' as const, wrongCodes: 0, locked: false },
      { handle: 'ne4-ovh', status: 'accepted' as const, wrongCodes: 1, locked: false },
    ],
    event: { dedupeKey: `${key}-accepted`, actor: 'ne4-ovh', action: 'accepted' },
  },
  event: audit(key),
});

/** The apply wrote the last acceptance with the change (one transaction, one activity task), once. */
async function expectLastAcceptanceWritten(taskId: number) {
  const validators = await database.db.taskValidator.findMany({
    where: { taskId },
    orderBy: { handle: 'asc' },
  });
  expect(validators.map((v) => [v.handle, v.status, v.failedAttempts, v.decidedAt !== null])).toEqual([
    ['ad1-ovh', 'accepted', 0, true],
    ['ne4-ovh', 'accepted', 1, true],
  ]);
  const accepted = await database.db.auditEvent.findMany({ where: { taskId, action: 'accepted' } });
  expect(accepted.map((e) => e.actor)).toEqual(['ne4-ovh']);
}

async function endTask(taskId: number) {
  await activities.recordTask({ taskId, state: 'aborted', validators: [], event: audit(`end-${taskId}`) });
}

test('openTask writes the task as awaiting decisions with its creation event, once; a second open task for the same role is recorded as refused', async () => {
  const args = openArgs();
  const first = await activities.openTask(args);
  expect(first.conflict).toBe(false);
  expect(await activities.openTask(args)).toEqual(first); // a retried activity finds its own row
  const task = await database.db.contactChangeTask.findUniqueOrThrow({ where: { id: first.taskId } });
  expect(task.state).toBe('validatingByCustomers');
  // Written by one SQL statement: its dates in UTC like Prisma's, its validators and its role lock with it.
  expect(Math.abs(task.dateRequest.getTime() - Date.now())).toBeLessThan(60_000);
  expect(task.expiresAt.toISOString()).toBe(new Date(args.expiresAt).toISOString());
  expect(await database.db.taskValidator.count({ where: { taskId: first.taskId } })).toBe(
    args.validators.length,
  );
  expect(await database.db.openRoleLock.count({ where: { taskId: first.taskId } })).toBe(
    args.contactTypes.length,
  );
  const events = await database.db.auditEvent.findMany({ where: { taskId: first.taskId } });
  expect(events.map((e) => [e.action, e.actor])).toEqual([['created', 'ad1-ovh']]);
  const other = await activities.openTask(openArgs({ toAccount: 'bi3-ovh' }));
  expect(other.conflict).toBe(true);
  const row = await database.db.contactChangeTask.findUniqueOrThrow({ where: { id: other.taskId } });
  expect(row).toMatchObject({ state: 'refused', reason: 'taskAlreadyOpen' });
  expect(await database.db.auditEvent.count({ where: { taskId: other.taskId } })).toBe(0);
  await endTask(first.taskId);
  expect(await database.db.openRoleLock.count()).toBe(0);
});

test('recordTask writes the decisions, the end and the audit event once, however often it is retried', async () => {
  const { taskId } = await activities.openTask(openArgs());
  await activities.issueCodes({ taskId, handles: ['ad1-ovh'], step: 'created' });
  const validators = [
    { handle: 'ad1-ovh', status: 'accepted' as const, wrongCodes: 1, locked: false },
    { handle: 'ne4-ovh', status: 'pending' as const, wrongCodes: 2, locked: false },
  ];
  const decided = {
    taskId,
    state: 'validatingByCustomers' as const,
    validators,
    event: audit(`d-${taskId}`),
  };
  await activities.recordTask(decided);
  const [admin] = await database.db.taskValidator.findMany({ where: { taskId, handle: 'ad1-ovh' } });
  expect(Math.abs(admin.decidedAt!.getTime() - Date.now())).toBeLessThan(5_000);
  // Moved back, so that a retry that wrote the time again would show (instead of waiting for the clock to move).
  const firstDecision = new Date('2026-01-01T00:00:00Z');
  await database.db.taskValidator.update({
    where: { taskId_handle: { taskId, handle: 'ad1-ovh' } },
    data: { decidedAt: firstDecision },
  });
  await activities.recordTask(decided);
  const rows = await database.db.taskValidator.findMany({ where: { taskId }, orderBy: { handle: 'asc' } });
  expect(rows.map((v) => [v.handle, v.status, v.failedAttempts, v.codeHash, v.decidedAt !== null])).toEqual([
    ['ad1-ovh', 'accepted', 1, null, true],
    ['ne4-ovh', 'pending', 2, null, false],
  ]);
  expect(rows[0].decidedAt).toEqual(firstDecision); // decided once: a retry keeps the first time
  expect(await database.db.openRoleLock.count({ where: { taskId } })).toBe(1);

  const end = {
    taskId,
    state: 'refused' as const,
    reason: 'refusedByContact',
    validators,
    event: audit(`e-${taskId}`),
  };
  await activities.recordTask(end);
  await activities.recordTask(end);
  const task = await database.db.contactChangeTask.findUniqueOrThrow({ where: { id: taskId } });
  expect(task).toMatchObject({ state: 'refused', reason: 'refusedByContact' });
  expect(Math.abs(task.dateDone!.getTime() - Date.now())).toBeLessThan(5_000);
  expect(await database.db.openRoleLock.count({ where: { taskId } })).toBe(0);
  const events = await database.db.auditEvent.findMany({ where: { taskId }, orderBy: { id: 'asc' } });
  expect(events.map((e) => e.dedupeKey)).toEqual([`created-${run}`, `d-${taskId}`, `e-${taskId}`]);
});

test('issueCodes mails a personal code and returns only a digest of its keyed hash; the same step twice sends one mail', async () => {
  const { taskId } = await activities.openTask(openArgs());
  const sends = jest.spyOn(mailer, 'send');
  try {
    const first = await activities.issueCodes({ taskId, handles: ['ne4-ovh'], step: 'created' });
    expect(first.undeliverable).toEqual([]);
    const mail = await mailbox.waitFor(
      (m) => m.to.includes('ne4-ovh@mail.test') && m.text.includes(`/validate/${taskId}#`),
    );
    const { code, link } = readCodeEmail(mail);
    expect(link).toBe(`http://contacts.test/validate/${taskId}#code=${code}&for=ne4-ovh`);
    expect(code).toMatch(/^[2-9A-HJKMNP-Z]{10}$/);
    const keyedHash = hashCode(codeHashKey, taskId, 'ne4-ovh', code);
    expect(first.codeDigests).toEqual({ 'ne4-ovh': codeDigest(keyedHash) });

    const again = await activities.issueCodes({ taskId, handles: ['ne4-ovh'], step: 'created' });
    expect(again.codeDigests).toEqual(first.codeDigests);
    expect(sends).toHaveBeenCalledTimes(1);

    // Neither the code nor what the accept Update carries is stored anywhere.
    const dump = JSON.stringify(
      await database.db.$queryRawUnsafe(
        'SELECT (SELECT json_agg(t) FROM task_validator t) AS v, (SELECT json_agg(e) FROM sent_email e) AS e',
      ),
    );
    expect(dump).not.toContain(code);
    expect(dump).not.toContain(keyedHash);
  } finally {
    sends.mockRestore();
    await endTask(taskId);
  }
});

test('a send retried after a crash (the mail out, its record lost) mails the same code: the one delivered still works', async () => {
  const { taskId } = await activities.openTask(openArgs());
  const first = await activities.issueCodes({ taskId, handles: ['ne4-ovh'], step: 'created' });
  const isCode = (m: { to: string[]; text: string }) =>
    m.to.includes('ne4-ovh@mail.test') && m.text.includes(`/validate/${taskId}#`);
  const delivered = readCodeEmail(await mailbox.waitFor(isCode)).code;
  // The crash: the SMTP server took the mail, the worker died before writing that it went out.
  await database.db.sentEmail.deleteMany({ where: { taskId } });
  const retried = await activities.issueCodes({ taskId, handles: ['ne4-ovh'], step: 'created' });
  const mails = mailbox.messages().filter(isCode);
  await mailbox.waitFor((m) => isCode(m) && m.id > mails[0].id);
  const codes = mailbox
    .messages()
    .filter(isCode)
    .map((m) => readCodeEmail(m).code);
  expect(codes).toEqual([delivered, delivered]);
  expect(retried.codeDigests).toEqual(first.codeDigests);
  expect(first.codeDigests['ne4-ovh']).toBe(codeDigest(hashCode(codeHashKey, taskId, 'ne4-ovh', delivered)));
  // Another step (a resend) mails another code.
  await activities.issueCodes({ taskId, handles: ['ne4-ovh'], step: 'resend-1' });
  const resent = await mailbox.waitFor((m) => isCode(m) && readCodeEmail(m).code !== delivered);
  expect(readCodeEmail(resent).code).toMatch(/^[2-9A-HJKMNP-Z]{10}$/);
  await endTask(taskId);
});

test('two attempts of one step at once (a workflow task retried on another worker while the first still sends) mail once', async () => {
  const { taskId } = await activities.openTask(openArgs());
  const isCode = (m: { to: string[]; text: string }) =>
    m.to.includes('ne4-ovh@mail.test') && m.text.includes(`/validate/${taskId}#`);
  const step = { taskId, handles: ['ne4-ovh'], step: 'created' };
  // The first attempt's mail reaches the mailbox, whose answer is held back: that attempt is still sending.
  mailbox.setFault({ hang: 'afterData' });
  let first: Promise<unknown> | undefined;
  let second: Promise<unknown> | undefined;
  try {
    first = activities.issueCodes(step);
    const delivered = await mailbox.waitFor(isCode);
    second = activities.issueCodes(step).catch((error: unknown) => error);
    // Either the second attempt gives way at once, or (the bug) its own copy arrives.
    await Promise.race([second, mailbox.waitFor((m) => isCode(m) && m.id > delivered.id, 10_000)]);
  } finally {
    mailbox.setFault(undefined);
  }
  const issued = await first;
  expect(await second).toMatchObject({ type: 'mailSentElsewhere', nonRetryable: false });
  // Its retry finds the mail sent, and mails nothing more.
  expect(await activities.issueCodes(step)).toEqual(issued);
  expect(mailbox.messages().filter(isCode)).toHaveLength(1);
  await endTask(taskId);
});

test('a mail claimed by an attempt that died is left to it while its claim holds, and sent once the claim is stale', async () => {
  const { taskId } = await activities.openTask(openArgs());
  const key = `${taskId}:created/informedCreated:te2-ovh`;
  const claimedAgo = (ms: number) =>
    database.db.sentEmail.upsert({
      where: { key },
      create: {
        key,
        taskId,
        recipient: 'te2-ovh',
        step: 'created/informedCreated',
        messageId: '<dead@attempt>',
        claimedBy: 'dead attempt',
        claimedAt: new Date(Date.now() - ms),
      },
      update: { claimedAt: new Date(Date.now() - ms) },
    });
  const notice = {
    taskId,
    step: 'created',
    batches: [{ template: 'informedCreated' as const, recipients: ['te2-ovh'] }],
  };
  const isNotice = (m: { to: string[]; text: string }) =>
    m.to.includes('te2-ovh@mail.test') && m.text.includes(`n° ${taskId}`);
  await claimedAgo(1000);
  await expect(activities.sendStepMails(notice)).rejects.toMatchObject({ type: 'mailSentElsewhere' });
  expect(mailbox.messages().filter(isNotice)).toHaveLength(0);
  await claimedAgo(MAIL_CLAIM_LEASE_MS + 5000);
  await activities.sendStepMails(notice);
  await mailbox.waitFor(isNotice);
  expect(await database.db.sentEmail.findUniqueOrThrow({ where: { key } })).toMatchObject({
    sentAt: expect.any(Date),
    claimedBy: null,
  });
  await endTask(taskId);
});

test('an address the mail server refuses (SMTP 550) is reported, not retried, and the other mails still go', async () => {
  const { taskId } = await activities.openTask(openArgs());
  mailbox.setFault({ refuse: 550, recipients: ['ne4-ovh@mail.test'] });
  try {
    const issued = await activities.issueCodes({
      taskId,
      handles: ['ad1-ovh', 'ne4-ovh'],
      step: 'created',
      notices: { template: 'informedCreated', recipients: ['te2-ovh'] },
    });
    expect(issued.undeliverable).toEqual([{ handle: 'ne4-ovh', response: expect.stringMatching(/^550\b/) }]);
    expect(Object.keys(issued.codeDigests).sort()).toEqual(['ad1-ovh', 'ne4-ovh']);
    const sent = await database.db.sentEmail.findMany({ where: { taskId }, orderBy: { recipient: 'asc' } });
    expect(sent.map((m) => m.recipient)).toEqual(['ad1-ovh', 'te2-ovh']);
  } finally {
    mailbox.setFault(undefined);
  }
  await endTask(taskId);
});

test("a step's mail that fails for now fails the attempt once the others are recorded: its retry sends only that one", async () => {
  const { taskId } = await activities.openTask(openArgs());
  const step = {
    taskId,
    handles: ['ad1-ovh', 'ne4-ovh'],
    step: 'created',
    notices: { template: 'informedCreated' as const, recipients: ['te2-ovh'] },
  };
  const toTask = (m: { text: string }) =>
    m.text.includes(`/validate/${taskId}`) || m.text.includes(`n° ${taskId}`);
  mailbox.setFault({ refuse: 451, recipients: ['ne4-ovh@mail.test'] });
  try {
    await expect(activities.issueCodes(step)).rejects.toMatchObject({ responseCode: 451 });
  } finally {
    mailbox.setFault(undefined);
  }
  const recorded = await database.db.sentEmail.findMany({ where: { taskId }, orderBy: { recipient: 'asc' } });
  expect(recorded.map((m) => [m.recipient, m.sentAt !== null])).toEqual([
    ['ad1-ovh', true],
    ['te2-ovh', true],
  ]); // the one that failed is not held by a claim: the retry may send it at once
  const sends = jest.spyOn(mailer, 'send');
  try {
    await activities.issueCodes(step);
    expect(sends.mock.calls.map(([mail]) => mail.to)).toEqual(['ne4-ovh@mail.test']);
  } finally {
    sends.mockRestore();
  }
  await mailbox.waitFor((m) => toTask(m) && m.to.includes('ne4-ovh@mail.test'));
  expect(mailbox.messages().filter(toTask)).toHaveLength(3);
  await endTask(taskId);
});

test('the SMTP answers are classified: 5xx refused for good, 4xx and connection failures to be retried', () => {
  expect(isPermanentSmtpFailure(Object.assign(new Error('x'), { responseCode: 550 }))).toBe(true);
  expect(isPermanentSmtpFailure(Object.assign(new Error('x'), { responseCode: 421 }))).toBe(false);
  expect(isPermanentSmtpFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(false);
  expect(isPermanentSmtpFailure(undefined)).toBe(false);
});

test('recordTask writes needsAttention; a constraint the database refuses (no such task) fails it for good, not retried', async () => {
  const { taskId } = await activities.openTask(openArgs());
  const needsAttention = {
    reason: 'mailRejected' as const,
    handles: ['ne4-ovh'],
    since: new Date().toISOString(),
  };
  await activities.recordTask({
    taskId,
    state: 'validatingByCustomers',
    validators: [],
    needsAttention,
    event: audit(`na-${taskId}`),
  });
  const row = await database.db.contactChangeTask.findUniqueOrThrow({ where: { id: taskId } });
  expect(row.needsAttention).toEqual(needsAttention);
  const failure = await activities
    .recordTask({ taskId: 2_000_000_000, state: 'aborted', validators: [], event: audit(`fk-${taskId}`) })
    .catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: 'constraintViolation', nonRetryable: true });
  await endTask(taskId);
});

test("emails are written in the recipient's language and sent once per task and step", async () => {
  const { taskId } = await activities.openTask(openArgs());
  const informed = {
    taskId,
    step: 'created',
    batches: [{ template: 'informedCreated' as const, recipients: ['te2-ovh'] }],
  };
  await activities.sendStepMails(informed);
  await activities.sendStepMails(informed);
  await activities.sendStepMails({
    taskId,
    step: 'end',
    batches: [{ template: 'expired', recipients: ['ad1-ovh'] }],
  });
  const french = await mailbox.waitFor(
    (m) => m.to.includes('te2-ovh@mail.test') && m.text.includes(`n° ${taskId}`),
  );
  expect(french.subject).toBe('[svc.example] Demande de changement de contact technique');
  const spanish = await mailbox.waitFor(
    (m) => m.to.includes('ad1-ovh@mail.test') && m.text.includes(`n.º ${taskId}`),
  );
  expect(spanish.subject).toBe('[svc.example] Solicitud de cambio de contacto caducada');
  expect(mailbox.messages().filter((m) => m.text.includes(`n° ${taskId}`))).toHaveLength(1);
  await endTask(taskId);
});

test('the end mails go out in one activity, each template to its recipients, once even when retried', async () => {
  const { taskId } = await activities.openTask(openArgs());
  const end = {
    taskId,
    step: 'end',
    batches: [
      { template: 'done' as const, recipients: ['ad1-ovh', 'ne4-ovh'] },
      { template: 'doneInformed' as const, recipients: ['te2-ovh'] },
    ],
  };
  await activities.sendStepMails(end);
  await activities.sendStepMails(end);
  const sent = await database.db.sentEmail.findMany({
    where: { taskId },
    orderBy: [{ step: 'asc' }, { recipient: 'asc' }],
  });
  expect(sent.map((mail) => `${mail.step} ${mail.recipient}`)).toEqual([
    'end/done ad1-ovh',
    'end/done ne4-ovh',
    'end/doneInformed te2-ovh',
  ]);
  await mailbox.waitFor((m) => m.to.includes('te2-ovh@mail.test') && m.text.includes(`n° ${taskId}`));
  await endTask(taskId);
});

test('a mail server that is down makes the activity fail (to be retried) and loses nothing once it is back', async () => {
  const { taskId } = await activities.openTask(openArgs());
  mailbox.setDown(true);
  await expect(
    activities.sendStepMails({
      taskId,
      step: 'down',
      batches: [{ template: 'done', recipients: ['bi3-ovh'] }],
    }),
  ).rejects.toThrow();
  expect(await database.db.sentEmail.count({ where: { taskId } })).toBe(0);
  mailbox.setDown(false);
  await activities.sendStepMails({
    taskId,
    step: 'down',
    batches: [{ template: 'done', recipients: ['bi3-ovh'] }],
  });
  await mailbox.waitFor((m) => m.to.includes('bi3-ovh@mail.test') && m.text.includes(`#${taskId}`));
  expect(await database.db.sentEmail.count({ where: { taskId } })).toBe(1);
  await endTask(taskId);
});

test('applyChange changes the contacts once, in one statement, and releases the role', async () => {
  const { taskId } = await activities.openTask(openArgs());
  expect(await activities.applyChange(applyArgs(taskId, `apply-${taskId}`))).toEqual({
    applied: true,
  });
  expect(await contactsOf(database.db, 'svc.example')).toEqual({
    admin: 'ad1-ovh',
    tech: 'ne4-ovh',
    billing: 'bi3-ovh',
  });
  expect(await activities.applyChange(applyArgs(taskId, `apply-${taskId}`))).toEqual({
    applied: true,
  });
  expect(await database.db.auditEvent.count({ where: { taskId, action: 'test' } })).toBe(1);
  expect(await database.db.openRoleLock.count({ where: { taskId } })).toBe(0);
  const task = await database.db.contactChangeTask.findUniqueOrThrow({ where: { id: taskId } });
  expect(task.state).toBe('done');
  await expectLastAcceptanceWritten(taskId);
  await database.db.service.update({
    where: { id: serviceId },
    data: { techId: (await account('te2-ovh')).id },
  });
});

test('applyChange sends the end mails it is given once the change is committed, once even when retried; a mail server down leaves them to the mail activity', async () => {
  const endMails = {
    step: 'end',
    batches: [
      { template: 'done' as const, recipients: ['ad1-ovh', 'ne4-ovh'] },
      { template: 'doneInformed' as const, recipients: ['te2-ovh'] },
    ],
  };
  const { taskId } = await activities.openTask(openArgs());
  const args = { ...applyArgs(taskId, `apply-${taskId}`), endMails };
  expect(await activities.applyChange(args)).toEqual({ applied: true, mailed: { undeliverable: [] } });
  expect(await activities.applyChange(args)).toEqual({ applied: true, mailed: { undeliverable: [] } });
  const sent = await database.db.sentEmail.findMany({ where: { taskId }, orderBy: { recipient: 'asc' } });
  expect(sent.map((mail) => `${mail.step} ${mail.recipient}`)).toEqual([
    'end/done ad1-ovh',
    'end/done ne4-ovh',
    'end/doneInformed te2-ovh',
  ]);
  await mailbox.waitFor((m) => m.to.includes('te2-ovh@mail.test') && m.text.includes(`n° ${taskId}`));
  await database.db.service.update({
    where: { id: serviceId },
    data: { techId: (await account('te2-ovh')).id },
  });

  const down = await activities.openTask(openArgs());
  mailbox.setDown(true);
  try {
    const applied = await activities.applyChange({
      ...applyArgs(down.taskId, `apply-${down.taskId}`),
      endMails,
    });
    expect(applied).toEqual({ applied: true });
  } finally {
    mailbox.setDown(false);
  }
  expect(await database.db.sentEmail.count({ where: { taskId: down.taskId, sentAt: { not: null } } })).toBe(
    0,
  );
  expect((await database.db.contactChangeTask.findUniqueOrThrow({ where: { id: down.taskId } })).state).toBe(
    'done',
  );
  await database.db.service.update({
    where: { id: serviceId },
    data: { techId: (await account('te2-ovh')).id },
  });
});

test('a late retry of an earlier recordTask never takes a task out of its final state (found by npm run soak)', async () => {
  const { taskId } = await activities.openTask(openArgs());
  expect(await activities.applyChange(applyArgs(taskId, `apply-${taskId}`))).toEqual({
    applied: true,
  });
  await activities.recordTask({
    taskId,
    state: 'checkValidity',
    validators: [],
    event: audit(`late-${taskId}`),
  });
  const task = await database.db.contactChangeTask.findUniqueOrThrow({ where: { id: taskId } });
  expect(task.state).toBe('done');
  // the apply's own retry still sees the change as made, not as a role that changed hands
  expect(await activities.applyChange(applyArgs(taskId, `apply-${taskId}`))).toEqual({
    applied: true,
  });
  await database.db.service.update({
    where: { id: serviceId },
    data: { techId: (await account('te2-ovh')).id },
  });
});

test('applyChange refuses when the role changed hands meanwhile, or a billing contact fell into arrears', async () => {
  const moved = await activities.openTask(openArgs());
  await database.db.service.update({
    where: { id: serviceId },
    data: { techId: (await account('bi3-ovh')).id },
  });
  expect(await activities.applyChange(applyArgs(moved.taskId, `a-${moved.taskId}`))).toEqual({
    applied: false,
    reason: 'roleNoLongerHeld',
    state: 'refused',
  });
  await expectLastAcceptanceWritten(moved.taskId); // refused at the apply, but accepted all the same
  await database.db.service.update({
    where: { id: serviceId },
    data: { techId: (await account('te2-ovh')).id },
  });
  await endTask(moved.taskId);

  const billing = await activities.openTask(
    openArgs({ fromAccount: 'bi3-ovh', contactTypes: ['contactBilling'], informed: ['bi3-ovh'] }),
  );
  await database.db.account.update({ where: { handle: 'ne4-ovh' }, data: { billingStanding: 'arrears' } });
  expect(await activities.applyChange(applyArgs(billing.taskId, `b-${billing.taskId}`))).toEqual({
    applied: false,
    reason: 'billingInArrears',
    state: 'refused',
  });
  await database.db.account.update({ where: { handle: 'ne4-ovh' }, data: { billingStanding: 'good' } });
  expect(await contactsOf(database.db, 'svc.example')).toEqual({
    admin: 'ad1-ovh',
    tech: 'te2-ovh',
    billing: 'bi3-ovh',
  });
  await endTask(billing.taskId);
});

test('two attempts of one apply at once (a retry beside a slow first try) both answer applied, and change once', async () => {
  const { taskId } = await activities.openTask(openArgs());
  const args = applyArgs(taskId, `twice-${taskId}`);
  expect(await Promise.all([activities.applyChange(args), activities.applyChange(args)])).toEqual([
    { applied: true },
    { applied: true },
  ]);
  expect(await contactsOf(database.db, 'svc.example')).toMatchObject({ tech: 'ne4-ovh' });
  expect(await database.db.auditEvent.count({ where: { taskId, action: 'test' } })).toBe(1);
  await expectLastAcceptanceWritten(taskId);
  await database.db.service.update({
    where: { id: serviceId },
    data: { techId: (await account('te2-ovh')).id },
  });
});

test('an apply racing another write to its service checks what the service became, and never writes over it', async () => {
  const { taskId } = await activities.openTask(openArgs());
  // Another transaction (a move's chunk, say) gives the tech role to bi3-ovh and holds the row until it commits.
  let commit!: () => void;
  const committed = new Promise<void>((resolve) => (commit = resolve));
  let locked!: () => void;
  const rowLocked = new Promise<void>((resolve) => (locked = resolve));
  const other = database.db.$transaction(async (tx) => {
    await tx.service.update({ where: { id: serviceId }, data: { techId: (await account('bi3-ovh')).id } });
    locked();
    await committed;
  });
  await rowLocked;
  const apply = activities.applyChange(applyArgs(taskId, `race-${taskId}`));
  // The apply read the service as it was (te2-ovh holds the role) and now waits for the row.
  await eventually('the apply waiting for the service row', async () => {
    const [{ waiting }] = await database.db.$queryRaw<{ waiting: number }[]>`
      SELECT count(*)::int AS waiting FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE service%'`;
    expect(waiting).toBe(1);
  });
  commit();
  await other;
  expect(await apply).toEqual({ applied: false, reason: 'roleNoLongerHeld', state: 'refused' });
  expect(await contactsOf(database.db, 'svc.example')).toMatchObject({ tech: 'bi3-ovh' });
  expect(await database.db.openRoleLock.count({ where: { taskId } })).toBe(1); // released by the refusal's record
  await database.db.service.update({
    where: { id: serviceId },
    data: { techId: (await account('te2-ovh')).id },
  });
  await endTask(taskId);
});

test('the audit log is append-only, at the database itself', async () => {
  await expect(database.db.auditEvent.deleteMany({})).rejects.toThrow(/append-only/);
});

function account(handle: string) {
  return database.db.account.findUniqueOrThrow({ where: { handle } });
}
