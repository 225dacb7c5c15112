-- CreateEnum
CREATE TYPE "Language" AS ENUM ('es', 'en', 'fr');

-- CreateEnum
CREATE TYPE "BillingStanding" AS ENUM ('good', 'arrears');

-- CreateTable
CREATE TABLE "account" (
    "id" SERIAL NOT NULL,
    "handle" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "language" "Language" NOT NULL DEFAULT 'en',
    "billing_standing" "BillingStanding" NOT NULL DEFAULT 'good',
    "password_hash" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "service" (
    "id" SERIAL NOT NULL,
    "type" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "admin_id" INTEGER NOT NULL,
    "tech_id" INTEGER NOT NULL,
    "billing_id" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "service_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contact_change_task" (
    "id" SERIAL NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "run_id" TEXT,
    "service_id" INTEGER NOT NULL,
    "service_type" TEXT NOT NULL,
    "service_name" TEXT NOT NULL,
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

    CONSTRAINT "contact_change_task_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "task_validator" (
    "task_id" INTEGER NOT NULL,
    "handle" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "code_hash" TEXT,
    "code_issued_at" TIMESTAMP(3),
    "codes_issued" INTEGER NOT NULL DEFAULT 0,
    "failed_attempts" INTEGER NOT NULL DEFAULT 0,
    "decided_at" TIMESTAMP(3),

    CONSTRAINT "task_validator_pkey" PRIMARY KEY ("task_id","handle")
);

-- CreateTable
CREATE TABLE "open_role_lock" (
    "service_id" INTEGER NOT NULL,
    "role" TEXT NOT NULL,
    "task_id" INTEGER NOT NULL,

    CONSTRAINT "open_role_lock_pkey" PRIMARY KEY ("service_id","role")
);

-- CreateTable
CREATE TABLE "audit_event" (
    "id" BIGSERIAL NOT NULL,
    "dedupe_key" TEXT,
    "task_id" INTEGER,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "source_ip" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sent_email" (
    "key" TEXT NOT NULL,
    "task_id" INTEGER NOT NULL,
    "recipient" TEXT NOT NULL,
    "step" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "sent_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sent_email_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "api_application" (
    "id" SERIAL NOT NULL,
    "app_key" TEXT NOT NULL,
    "secret" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "api_application_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consumer_key" (
    "key" TEXT NOT NULL,
    "validation_token" TEXT NOT NULL,
    "access_rules" JSONB NOT NULL DEFAULT '[]',
    "application_id" INTEGER NOT NULL,
    "account_id" INTEGER,
    "state" TEXT NOT NULL DEFAULT 'pendingValidation',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "validated_at" TIMESTAMP(3),

    CONSTRAINT "consumer_key_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "account_handle_key" ON "account"("handle");

-- CreateIndex
CREATE UNIQUE INDEX "service_name_key" ON "service"("name");

-- CreateIndex
CREATE INDEX "service_admin_id_name_idx" ON "service"("admin_id", "name");

-- CreateIndex
CREATE INDEX "service_tech_id_name_idx" ON "service"("tech_id", "name");

-- CreateIndex
CREATE INDEX "service_billing_id_name_idx" ON "service"("billing_id", "name");

-- CreateIndex
CREATE INDEX "contact_change_task_service_id_idx" ON "contact_change_task"("service_id");

-- CreateIndex
CREATE INDEX "contact_change_task_asking_account_idx" ON "contact_change_task"("asking_account");

-- CreateIndex
CREATE INDEX "contact_change_task_from_account_idx" ON "contact_change_task"("from_account");

-- CreateIndex
CREATE INDEX "contact_change_task_to_account_idx" ON "contact_change_task"("to_account");

-- CreateIndex
CREATE INDEX "contact_change_task_state_idx" ON "contact_change_task"("state");

-- CreateIndex
CREATE INDEX "task_validator_handle_idx" ON "task_validator"("handle");

-- CreateIndex
CREATE INDEX "open_role_lock_task_id_idx" ON "open_role_lock"("task_id");

-- CreateIndex
CREATE UNIQUE INDEX "audit_event_dedupe_key_key" ON "audit_event"("dedupe_key");

-- CreateIndex
CREATE INDEX "audit_event_task_id_id_idx" ON "audit_event"("task_id", "id");

-- CreateIndex
CREATE INDEX "sent_email_task_id_idx" ON "sent_email"("task_id");

-- CreateIndex
CREATE UNIQUE INDEX "api_application_app_key_key" ON "api_application"("app_key");

-- CreateIndex
CREATE UNIQUE INDEX "consumer_key_validation_token_key" ON "consumer_key"("validation_token");

-- AddForeignKey
ALTER TABLE "service" ADD CONSTRAINT "service_admin_id_fkey" FOREIGN KEY ("admin_id") REFERENCES "account"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "service" ADD CONSTRAINT "service_tech_id_fkey" FOREIGN KEY ("tech_id") REFERENCES "account"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "service" ADD CONSTRAINT "service_billing_id_fkey" FOREIGN KEY ("billing_id") REFERENCES "account"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task_validator" ADD CONSTRAINT "task_validator_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "contact_change_task"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_event" ADD CONSTRAINT "audit_event_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "contact_change_task"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consumer_key" ADD CONSTRAINT "consumer_key_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "api_application"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consumer_key" ADD CONSTRAINT "consumer_key_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- The audit log is append-only: refuse updates and deletes at the database itself.
CREATE FUNCTION "audit_event_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only';
END;
$$;
CREATE TRIGGER "audit_event_no_update" BEFORE UPDATE OR DELETE ON "audit_event"
  FOR EACH ROW EXECUTE FUNCTION "audit_event_append_only"();
