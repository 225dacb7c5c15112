-- Service types follow the provider's family names (the path of its API: "dedicated/server", "hosting/web"),
-- so that scripts written for the provider's API call the same paths here (domain/service-types.ts).
UPDATE "service" SET "type" = 'dedicated/server' WHERE "type" = 'dedicated';
UPDATE "service" SET "type" = 'hosting/web' WHERE "type" = 'hosting';
UPDATE "contact_change_task" SET "service_type" = 'dedicated/server' WHERE "service_type" = 'dedicated';
UPDATE "contact_change_task" SET "service_type" = 'hosting/web' WHERE "service_type" = 'hosting';
