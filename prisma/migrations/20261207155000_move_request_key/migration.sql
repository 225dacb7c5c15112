-- A move request's fingerprint (who asked, from, to, roles, the selection as asked): a client that sends the same
-- request again while the first is open is answered that move (docs/decisions/moves.md, "A retried create").
ALTER TABLE "contact_move_request" ADD COLUMN "request_key" TEXT;
CREATE INDEX "contact_move_request_asking_account_request_key_idx" ON "contact_move_request"("asking_account", "request_key");
