-- Never read: how many codes a validator was sent is in the audit log (codeResent) and the sent mails.
ALTER TABLE "task_validator" DROP COLUMN "codes_issued";
