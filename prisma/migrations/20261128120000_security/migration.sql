-- Consumer keys and validation tokens are kept as SHA-256 hashes; keys get an id, a validity and a last use.
ALTER TABLE "consumer_key" ADD COLUMN "id" SERIAL NOT NULL;
ALTER TABLE "consumer_key" ADD COLUMN "key_hash" TEXT;
ALTER TABLE "consumer_key" ADD COLUMN "validation_token_hash" TEXT;
UPDATE "consumer_key"
   SET "key_hash" = encode(sha256(convert_to("key", 'UTF8')), 'hex'),
       "validation_token_hash" = encode(sha256(convert_to("validation_token", 'UTF8')), 'hex');
ALTER TABLE "consumer_key" ALTER COLUMN "key_hash" SET NOT NULL;
ALTER TABLE "consumer_key" ALTER COLUMN "validation_token_hash" SET NOT NULL;
ALTER TABLE "consumer_key" DROP CONSTRAINT "consumer_key_pkey";
DROP INDEX "consumer_key_validation_token_key";
ALTER TABLE "consumer_key" DROP COLUMN "key";
ALTER TABLE "consumer_key" DROP COLUMN "validation_token";
ALTER TABLE "consumer_key" ADD CONSTRAINT "consumer_key_pkey" PRIMARY KEY ("id");
ALTER TABLE "consumer_key" ADD COLUMN "redirection" TEXT;
-- Requests still pending when this runs get the usual 30 minutes from now.
ALTER TABLE "consumer_key" ADD COLUMN "pending_until" TIMESTAMP(3) NOT NULL DEFAULT (CURRENT_TIMESTAMP + interval '30 minutes');
ALTER TABLE "consumer_key" ALTER COLUMN "pending_until" DROP DEFAULT;
ALTER TABLE "consumer_key" ADD COLUMN "expires_at" TIMESTAMP(3);
ALTER TABLE "consumer_key" ADD COLUMN "last_use_at" TIMESTAMP(3);
CREATE UNIQUE INDEX "consumer_key_key_hash_key" ON "consumer_key"("key_hash");
CREATE UNIQUE INDEX "consumer_key_validation_token_hash_key" ON "consumer_key"("validation_token_hash");
CREATE INDEX "consumer_key_account_id_idx" ON "consumer_key"("account_id");
CREATE INDEX "consumer_key_application_id_idx" ON "consumer_key"("application_id");
ALTER TABLE "consumer_key" DROP CONSTRAINT "consumer_key_application_id_fkey";
ALTER TABLE "consumer_key" ADD CONSTRAINT "consumer_key_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "api_application"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "consumer_key" DROP CONSTRAINT "consumer_key_account_id_fkey";
ALTER TABLE "consumer_key" ADD CONSTRAINT "consumer_key_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Applications belong to the account that created them.
ALTER TABLE "api_application" ADD COLUMN "description" TEXT NOT NULL DEFAULT '';
ALTER TABLE "api_application" ADD COLUMN "account_id" INTEGER;
CREATE INDEX "api_application_account_id_idx" ON "api_application"("account_id");
ALTER TABLE "api_application" ADD CONSTRAINT "api_application_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Server-side portal sessions (hash of the cookie's token).
CREATE TABLE "session" (
    "id" SERIAL NOT NULL,
    "token_hash" TEXT NOT NULL,
    "account_id" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "session_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "session_token_hash_key" ON "session"("token_hash");
CREATE INDEX "session_account_id_idx" ON "session"("account_id");
ALTER TABLE "session" ADD CONSTRAINT "session_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Email changes waiting for the confirmation sent to the new address.
CREATE TABLE "email_change" (
    "id" SERIAL NOT NULL,
    "account_id" INTEGER NOT NULL,
    "new_email" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "email_change_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "email_change_token_hash_key" ON "email_change"("token_hash");
CREATE INDEX "email_change_account_id_idx" ON "email_change"("account_id");
ALTER TABLE "email_change" ADD CONSTRAINT "email_change_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Rate-limit counters shared by every API process (rate-limiter-flexible's Prisma store).
CREATE TABLE "rate_limit" (
    "key" TEXT NOT NULL,
    "points" INTEGER NOT NULL,
    "expire" TIMESTAMP(3),

    CONSTRAINT "rate_limit_pkey" PRIMARY KEY ("key")
);
