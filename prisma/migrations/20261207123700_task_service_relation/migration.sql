-- A task belongs to a service: the service's current admin contact sees it and may cancel it (issue 11, finding 4).
-- AddForeignKey
ALTER TABLE "contact_change_task" ADD CONSTRAINT "contact_change_task_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
