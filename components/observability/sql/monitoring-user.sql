-- The monitoring role postgres_exporter logs in as: it may connect and read
-- the statistics views (pg_monitor), nothing more. Idempotent: creates the
-- role once, then sets its password on every run.
--
-- The password arrives as a SCRAM-SHA-256 verifier (psql variable
-- "verifier", computed by the program), never in clear, so no server log
-- line or error message can carry it.
\set ON_ERROR_STOP on
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'monitoring') AS missing \gset
\if :missing
CREATE ROLE monitoring;
\endif
ALTER ROLE monitoring WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT 5 PASSWORD :'verifier';
ALTER ROLE monitoring SET statement_timeout = '30s';
GRANT pg_monitor TO monitoring;
