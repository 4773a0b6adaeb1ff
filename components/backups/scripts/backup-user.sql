-- The backup role database-backup dumps as: it may log in and read every
-- table (pg_read_all_data), nothing more. Idempotent: creates the role once,
-- then sets its password on every run. The password arrives as a
-- SCRAM-SHA-256 verifier (psql variable "verifier"), never in clear.
\set ON_ERROR_STOP on
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'backup') AS missing \gset
\if :missing
CREATE ROLE backup;
\endif
ALTER ROLE backup WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT 2 PASSWORD :'verifier';
GRANT pg_read_all_data TO backup;
