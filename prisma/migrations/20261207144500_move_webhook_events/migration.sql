-- A move's own events reach the webhooks' outbox, its progress included (lib/webhooks.ts maps the actions to the
-- contactMove.* event types).
DROP TRIGGER "audit_event_move_webhook_outbox" ON "audit_event";
CREATE TRIGGER "audit_event_move_webhook_outbox" AFTER INSERT ON "audit_event" FOR EACH ROW
  WHEN (NEW."move_id" IS NOT NULL AND NEW."task_id" IS NULL AND NEW."action" IN ('moveCreated', 'moveAccepted', 'moveRefused', 'moveApplying', 'moveProgress', 'moveApplied', 'moveExpired', 'moveCancelled', 'moveAborted'))
  EXECUTE FUNCTION "webhook_outbox_enqueue"();
