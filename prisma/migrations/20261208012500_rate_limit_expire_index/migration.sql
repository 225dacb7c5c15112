-- A hit that starts a new window deletes the expired counts (api/auth/login-throttle.ts): with this index that is a
-- range scan of the expired rows only, not a scan of every live count for each new key (an attacker spraying many
-- keys would otherwise make each of their first hits read the whole table).
CREATE INDEX "rate_limit_expire_idx" ON "rate_limit"("expire");
