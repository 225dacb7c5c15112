-- The apply takes a move's next waiting items in id order (activities/moves.ts, applyChunk): with id in the index
-- that is a range scan of the chunk's rows, where (move_id, state) alone read and sorted every waiting item for each
-- chunk (50,000 items: 100 chunks, each reading what is left). The counts (GROUP BY state) read it as well.
DROP INDEX "contact_change_task_move_id_state_idx";
CREATE INDEX "contact_change_task_move_id_state_id_idx" ON "contact_change_task"("move_id", "state", "id");
