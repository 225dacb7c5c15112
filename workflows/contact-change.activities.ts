// The activities the contact-change workflow calls: the contract lives beside the workflow, the
// implementation in activities/ (createActivities), so workflow code never imports Node code.
import type { ContactChangeInput, TaskState, ValidatorView } from './contact-change.messages';

export type EmailTemplate =
  'informedCreated' | 'reminder' | 'done' | 'doneInformed' | 'refused' | 'expired' | 'aborted';

export interface AuditEntry {
  /** Unique per workflow step, so a retried activity never writes the same event twice. */
  dedupeKey: string;
  actor: string;
  action: string;
  detail?: Record<string, unknown>;
  sourceIp?: string;
}

export interface OpenTaskArgs extends ContactChangeInput {
  workflowId: string;
  runId: string;
  expiresAt: string;
  /** When given, the task is written as awaiting decisions with this audit event (unless another task conflicts). */
  created?: AuditEntry;
}

export interface OpenTaskResult {
  taskId: number;
  /** Another open task holds one of the roles: this one is recorded as refused. */
  conflict: boolean;
}

export interface RecordTaskArgs {
  taskId: number;
  state: TaskState;
  reason?: string;
  validators: ValidatorView[];
  event: AuditEntry;
}

export type ApplyResult = { applied: true } | { applied: false; reason: string };

export interface ContactChangeActivities {
  openTask(args: OpenTaskArgs): Promise<OpenTaskResult>;
  /** Draws a fresh code, stores its keyed hash and mails it; returns the hash. Idempotent per step. */
  issueCode(args: { taskId: number; handle: string; step: string }): Promise<{ codeHash: string }>;
  /** issueCode for several validators in one activity (each stays idempotent on its own). */
  issueCodes(args: {
    taskId: number;
    handles: string[];
    step: string;
    /** Notices sent in the same activity, after the codes (the informed contact at creation). */
    notices?: { recipients: string[]; template: EmailTemplate };
  }): Promise<Record<string, string>>;
  sendTaskEmail(args: {
    taskId: number;
    recipient: string;
    step: string;
    template: EmailTemplate;
  }): Promise<void>;
  /** One template to several recipients in one activity; each mail is still sent once per task and step. */
  sendTaskEmails(args: {
    taskId: number;
    recipients: string[];
    step: string;
    template: EmailTemplate;
  }): Promise<void>;
  /** Several templates, each to its recipients, in one activity (the end of a task); each mail sent once. */
  sendTaskEmailBatches(args: {
    taskId: number;
    step: string;
    batches: { template: EmailTemplate; recipients: string[] }[];
  }): Promise<void>;
  recordTask(args: RecordTaskArgs): Promise<void>;
  /** Re-checks the preconditions and changes the contacts in one transaction. */
  applyChange(args: { taskId: number; event: AuditEntry }): Promise<ApplyResult>;
}
