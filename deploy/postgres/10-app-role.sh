#!/bin/sh
# PostgreSQL init script (docker-entrypoint-initdb.d; runs once, on an empty data volume):
# the role the application connects as. It may read and write rows, nothing else: not own
# the tables (an owner can drop the audit log's append-only triggers), not be a superuser
# (a superuser can switch triggers off), not TRUNCATE (that bypasses row triggers). The
# tables' owner ($POSTGRES_USER) runs the migrations; `cchc indicators rebuild` (TRUNCATE)
# and `cchc restore` also run as the owner. The same statements work on any PostgreSQL:
# docs/deployment.md shows them for a server installed with apt.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v owner="$POSTGRES_USER" -v db="$POSTGRES_DB" -v app_password="$CCHC_APP_PASSWORD" <<'SQL'
CREATE ROLE cchc_app LOGIN PASSWORD :'app_password';
GRANT CONNECT ON DATABASE :"db" TO cchc_app;
GRANT USAGE ON SCHEMA public TO cchc_app;
-- Tables and sequences the owner creates from now on (every migration).
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cchc_app;
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO cchc_app;
-- And any that exist already (none on a fresh volume; kept for re-use on a live server).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO cchc_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO cchc_app;
SQL
