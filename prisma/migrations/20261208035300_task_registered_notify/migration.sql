-- A single task's row announces itself once written (NOTIFY, delivered at commit): the API's answer to a request
-- waits for its row on LISTEN instead of looking for it every 10-100 ms (lib/task-registrations.ts). The payload is
-- the workflow id, a business id. A move's items are written by the thousand and nobody waits on each: not them.
CREATE FUNCTION "contact_change_task_announce"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('task_registered', NEW."workflow_id");
  RETURN NULL;
END;
$$;
CREATE TRIGGER "contact_change_task_registered" AFTER INSERT ON "contact_change_task" FOR EACH ROW
  WHEN (NEW."move_id" IS NULL)
  EXECUTE FUNCTION "contact_change_task_announce"();
