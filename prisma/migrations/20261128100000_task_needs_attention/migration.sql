-- A task that cannot go on alone (a mail refused or never delivered): { reason, handles, since }, shown to the
-- people of the task and to operators; NULL while all is well.
ALTER TABLE "contact_change_task" ADD COLUMN "needs_attention" JSONB;
