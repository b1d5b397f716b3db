#!/bin/sh
# Runs once, when the app database is first initialised (postgres image, docker-entrypoint-initdb.d).
# The owner (POSTGRES_USER) runs the migrations; the worker and the web service connect as
# appointments_svc, a member of appointments_app, which may read and append to the audit log but
# never change it, and sign audit checkpoints as appointments_signer_svc, a member of
# appointments_signer, the only role that may insert them (migration 0008_checkpoint_chain).
#
# Everything after the two SETs is LOGIN_ROLES_SQL of store/roles.py, word for word: the
# embedded stack (`appointments serve`) runs the same text at every start, without passwords.
# tests/starter/test_embedded_roles.py keeps the two equal and runs this script.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v svc_password="$APP_SVC_PASSWORD" -v signer_password="$APP_SIGNER_PASSWORD" <<'SQL'
SET appointments.svc_password = :'svc_password';
SET appointments.signer_password = :'signer_password';
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'appointments_app') THEN
        BEGIN
            CREATE ROLE appointments_app NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'appointments_svc') THEN
        BEGIN
            CREATE ROLE appointments_svc LOGIN IN ROLE appointments_app;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'appointments_svc' AND (rolsuper OR rolcreatedb
            OR rolcreaterole OR rolbypassrls OR rolreplication OR NOT rolinherit
            OR NOT rolcanlogin)) THEN
        ALTER ROLE appointments_svc NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION INHERIT LOGIN;
    END IF;
    IF NOT pg_has_role('appointments_svc', 'appointments_app', 'MEMBER') THEN
        GRANT appointments_app TO appointments_svc;
    END IF;
    IF coalesce(current_setting('appointments.svc_password', true), '') <> '' THEN
        EXECUTE format('ALTER ROLE appointments_svc PASSWORD %L', current_setting('appointments.svc_password'));
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'appointments_signer') THEN
        BEGIN
            CREATE ROLE appointments_signer NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'appointments_signer_svc') THEN
        BEGIN
            CREATE ROLE appointments_signer_svc LOGIN IN ROLE appointments_signer;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'appointments_signer_svc' AND (rolsuper OR rolcreatedb
            OR rolcreaterole OR rolbypassrls OR rolreplication OR NOT rolinherit
            OR NOT rolcanlogin)) THEN
        ALTER ROLE appointments_signer_svc NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION INHERIT LOGIN;
    END IF;
    IF NOT pg_has_role('appointments_signer_svc', 'appointments_signer', 'MEMBER') THEN
        GRANT appointments_signer TO appointments_signer_svc;
    END IF;
    IF coalesce(current_setting('appointments.signer_password', true), '') <> '' THEN
        EXECUTE format('ALTER ROLE appointments_signer_svc PASSWORD %L', current_setting('appointments.signer_password'));
    END IF;
END
$roles$;
SQL
