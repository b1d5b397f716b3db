#!/bin/sh
# Runs once, when the app database is first initialised (postgres image, docker-entrypoint-initdb.d).
# The owner (POSTGRES_USER) runs the migrations; the worker connects as appointments_svc, a
# member of appointments_app, which may read and append to the audit log but never change it,
# and signs audit checkpoints as appointments_signer_svc, a member of appointments_signer, the
# only role that may insert them (migration 0008_checkpoint_chain).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v svc_password="$APP_SVC_PASSWORD" -v signer_password="$APP_SIGNER_PASSWORD" <<'SQL'
CREATE ROLE appointments_app NOLOGIN;
CREATE ROLE appointments_svc LOGIN PASSWORD :'svc_password' IN ROLE appointments_app;
CREATE ROLE appointments_signer NOLOGIN;
CREATE ROLE appointments_signer_svc LOGIN PASSWORD :'signer_password' IN ROLE appointments_signer;
SQL
