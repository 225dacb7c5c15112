-- Webhooks: an account's subscriptions to its contact-change events, the outbox the audit log feeds in the same
-- transaction as each event, one delivery per (subscription, event), and every attempt of each delivery.

CREATE TABLE "webhook_subscription" (
    "id" SERIAL NOT NULL,
    "account_id" INTEGER NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "events" TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "secret" TEXT NOT NULL,
    "previous_secret" TEXT,
    "previous_secret_until" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_subscription_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_subscription_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "webhook_subscription_account_id_idx" ON "webhook_subscription"("account_id");

CREATE TABLE "webhook_outbox" (
    "audit_event_id" BIGINT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_outbox_pkey" PRIMARY KEY ("audit_event_id")
);

CREATE TABLE "webhook_delivery" (
    "id" TEXT NOT NULL,
    "subscription_id" INTEGER NOT NULL,
    "audit_event_id" BIGINT NOT NULL,
    "event_type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMP(3),
    CONSTRAINT "webhook_delivery_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_delivery_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "webhook_subscription"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "webhook_delivery_subscription_id_audit_event_id_key" ON "webhook_delivery"("subscription_id", "audit_event_id");
CREATE INDEX "webhook_delivery_subscription_id_created_at_idx" ON "webhook_delivery"("subscription_id", "created_at");

CREATE TABLE "webhook_attempt" (
    "id" BIGSERIAL NOT NULL,
    "delivery_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "duration_ms" INTEGER NOT NULL,
    "status_code" INTEGER,
    "error" TEXT,
    CONSTRAINT "webhook_attempt_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_attempt_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_delivery"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "webhook_attempt_delivery_id_idx" ON "webhook_attempt"("delivery_id");

-- The transactional outbox: an audit event a subscriber may care about is queued by the transaction that writes
-- it, so no event is lost between the write and the dispatcher, and nothing is queued while no one subscribes.
CREATE FUNCTION "webhook_outbox_enqueue"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM "webhook_subscription" WHERE "enabled") THEN
    INSERT INTO "webhook_outbox" ("audit_event_id") VALUES (NEW."id") ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "audit_event_webhook_outbox" AFTER INSERT ON "audit_event" FOR EACH ROW
  WHEN (NEW."task_id" IS NOT NULL AND NEW."action" IN ('created', 'accepted', 'refused', 'applied', 'refusedAtApply', 'expired', 'cancelled'))
  EXECUTE FUNCTION "webhook_outbox_enqueue"();
