-- Moves (issue 12): one request moving roles of many services from one account to another.
--   contact_move_request: the frozen request as the API took it (the selected service ids), read by the move's
--     first activity; never changed. The workflow input carries only its id (50,000 names would break history).
--   contact_move: the move's read model (same id as its request), written only by the move's activities.
--   contact_move_validator: one row per person validating the move (one code for the whole move).
--   The items are contact_change_task rows with move_id set: one per (service, from, to), so the provider's task
--   routes, the role locks (open_role_lock), the timelines and the webhooks keep working for them.

CREATE TABLE "contact_move_request" (
    "id" SERIAL NOT NULL,
    "asking_account" TEXT NOT NULL,
    "from_account" TEXT NOT NULL,
    "to_account" TEXT NOT NULL,
    "contact_types" TEXT[],
    "service_ids" INTEGER[],
    "selection" JSONB NOT NULL,
    "requested_from_ip" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "contact_move_request_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "contact_move" (
    "id" INTEGER NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "asking_account" TEXT NOT NULL,
    "from_account" TEXT NOT NULL,
    "to_account" TEXT NOT NULL,
    "contact_types" TEXT[],
    "informed" TEXT[],
    "state" TEXT NOT NULL,
    "reason" TEXT,
    "date_request" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "date_done" TIMESTAMP(3),
    "expires_at" TIMESTAMP(3) NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "needs_attention" JSONB,
    CONSTRAINT "contact_move_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "contact_move_id_fkey" FOREIGN KEY ("id") REFERENCES "contact_move_request"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "contact_move_asking_account_idx" ON "contact_move"("asking_account");
CREATE INDEX "contact_move_from_account_idx" ON "contact_move"("from_account");
CREATE INDEX "contact_move_to_account_idx" ON "contact_move"("to_account");

CREATE TABLE "contact_move_validator" (
    "move_id" INTEGER NOT NULL,
    "handle" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "items" INTEGER NOT NULL,
    "excluded" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "failed_attempts" INTEGER NOT NULL DEFAULT 0,
    "decided_at" TIMESTAMP(3),
    CONSTRAINT "contact_move_validator_pkey" PRIMARY KEY ("move_id", "handle"),
    CONSTRAINT "contact_move_validator_move_id_fkey" FOREIGN KEY ("move_id") REFERENCES "contact_move"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "contact_move_validator_handle_idx" ON "contact_move_validator"("handle");

-- Items: a task of a move shares the move's workflow run, so (workflow_id, run_id) is unique for single tasks only.
ALTER TABLE "contact_change_task" ADD COLUMN "move_id" INTEGER;
ALTER TABLE "contact_change_task" ADD CONSTRAINT "contact_change_task_move_id_fkey" FOREIGN KEY ("move_id") REFERENCES "contact_move"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE INDEX "contact_change_task_move_id_service_name_idx" ON "contact_change_task"("move_id", "service_name");
CREATE INDEX "contact_change_task_move_id_state_idx" ON "contact_change_task"("move_id", "state");
DROP INDEX "contact_change_task_workflow_id_run_id_key";
CREATE UNIQUE INDEX "contact_change_task_workflow_id_run_id_key" ON "contact_change_task"("workflow_id", "run_id") WHERE "move_id" IS NULL;
CREATE INDEX "contact_change_task_workflow_id_run_id_idx" ON "contact_change_task"("workflow_id", "run_id");

-- The move's own timeline (created, accepted by X, progress, done...): audit events with move_id and no task.
ALTER TABLE "audit_event" ADD COLUMN "move_id" INTEGER;
ALTER TABLE "audit_event" ADD CONSTRAINT "audit_event_move_id_fkey" FOREIGN KEY ("move_id") REFERENCES "contact_move"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX "audit_event_move_id_id_idx" ON "audit_event"("move_id", "id");

-- Move events feed the webhooks' outbox like the task events (lib/webhooks.ts maps the actions to event types).
CREATE TRIGGER "audit_event_move_webhook_outbox" AFTER INSERT ON "audit_event" FOR EACH ROW
  WHEN (NEW."move_id" IS NOT NULL AND NEW."task_id" IS NULL AND NEW."action" IN ('moveCreated', 'moveAccepted', 'moveRefused', 'moveApplied', 'moveExpired', 'moveCancelled'))
  EXECUTE FUNCTION "webhook_outbox_enqueue"();

-- Mails of a move: one per (move, step, recipient), like a task's.
ALTER TABLE "sent_email" ALTER COLUMN "task_id" DROP NOT NULL;
ALTER TABLE "sent_email" ADD COLUMN "move_id" INTEGER;
CREATE INDEX "sent_email_move_id_idx" ON "sent_email"("move_id");
