-- The task of a workflow run is looked up by (workflow_id, run_id) when it opens and when the API answers a
-- new request: an index, and one row per run at most.
-- CreateIndex
CREATE UNIQUE INDEX "contact_change_task_workflow_id_run_id_key" ON "contact_change_task"("workflow_id", "run_id");
