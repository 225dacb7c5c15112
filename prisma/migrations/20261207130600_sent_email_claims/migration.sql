-- A mail is claimed by the attempt that sends it before it goes (claimed_by, claimed_at), and marked sent once the
-- mail server took it (sent_at): two attempts of one step running at once (a workflow task retried on another
-- worker while the first still runs its local activity, a paused worker waking up) no longer both send it.
ALTER TABLE "sent_email" ALTER COLUMN "sent_at" DROP NOT NULL;
ALTER TABLE "sent_email" ALTER COLUMN "sent_at" DROP DEFAULT;
ALTER TABLE "sent_email" ADD COLUMN "claimed_by" TEXT;
ALTER TABLE "sent_email" ADD COLUMN "claimed_at" TIMESTAMP(3);
