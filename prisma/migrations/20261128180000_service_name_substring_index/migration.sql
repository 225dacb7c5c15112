-- "Services whose name contains …" for one contact: each role branch of the listing asks for
-- (<role>_id = account AND name ILIKE '%text%'). A B-tree on (<role>_id, name) can only scan all of the
-- account's services in name order and filter them (50,000 rows for a large reseller when the text is rare);
-- a GIN index over the role column (btree_gin) and the name's trigrams (pg_trgm) finds exactly the matching
-- rows of that account. Both extensions are trusted: the database owner may create them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE INDEX "service_admin_id_name_trgm_idx" ON "service" USING gin ("admin_id", "name" gin_trgm_ops);
CREATE INDEX "service_tech_id_name_trgm_idx" ON "service" USING gin ("tech_id", "name" gin_trgm_ops);
CREATE INDEX "service_billing_id_name_trgm_idx" ON "service" USING gin ("billing_id", "name" gin_trgm_ops);
