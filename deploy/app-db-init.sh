#!/bin/sh
# Runs once, when the app database is first initialised (postgres image, docker-entrypoint-initdb.d).
# The owner (POSTGRES_USER) runs the migrations; the worker connects as appointments_svc, a
# member of appointments_app, which may read and append to the audit log but never change it.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v svc_password="$APP_SVC_PASSWORD" <<'SQL'
CREATE ROLE appointments_app NOLOGIN;
CREATE ROLE appointments_svc LOGIN PASSWORD :'svc_password' IN ROLE appointments_app;
SQL
