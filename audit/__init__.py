"""The audit trail (审计留痕): every case's history, provable, searchable and exportable.

The log is ``case_events`` itself: ``activities.records.record_event`` writes every state
change, human input, reminder, escalation, notice and vote there, once per (case_id, seq); and
``probation_events``, where ``activities.probation_records.record_probation_event`` writes
every step of an appointee's probation year (reminders, the review, an early end, the formal
appointment), once per (probation_id, seq). This package adds what makes that log evidence
rather than tables:

- ``chain``, ``append``: each case's events, and each probation's, form a hash chain
  (``prev_hash`` → ``hash``, numbered by ``chain_index``), so an edited, removed or inserted
  event breaks the chain where it happened; ``append`` is the one writer of a new link;
- ``merkle``, ``keys``, ``statement``, ``checkpoints``: signed checkpoints (Ed25519) over the
  heads of every chain, so a chain cut short or recomputed from scratch no longer matches what
  was signed;
- ``checkpoint_chain``, ``keyring``, ``copies``: the checkpoints linked into a chain of their
  own, verified with the key valid at each one's time, and copied off the database, so a
  checkpoint forged, removed or all of them deleted shows too;
- ``locations``: where the service's key, keyring and copies are (settings, or the embedded
  stack's data folder);
- ``verify``: checks every chain against itself, the chain of checkpoints and its copies, and
  the log against the latest checkpoints;
- ``queries``: what auditors ask (a timeline, searches, a case as of a date);
- ``dossier``: a case dossier (JSON, CSV, printable HTML), with the probations of its
  appointees, that verifies offline;
- ``reconcile``: the log compared with Temporal's own history while Temporal still has it.

Privileges. Migration ``0002_audit`` makes the database refuse UPDATE, DELETE and TRUNCATE on
``case_events`` and ``audit_checkpoints`` by trigger (which binds the tables' owner too), and
``0005_probation_chain`` on ``probation_events``. ``0002_audit`` creates the group role
``appointments_app`` (NOLOGIN) holding only what the service needs: SELECT and INSERT on the
logs and the checkpoints, SELECT/INSERT/UPDATE on the listings (``cases``, ``probations``) and
``inbox``. The service should connect as a login role that is a member of it, not as the
owner of the tables::

    CREATE ROLE appointments LOGIN PASSWORD '...' IN ROLE appointments_app;

Migration ``0008_checkpoint_chain`` takes the right to insert checkpoints from
``appointments_app`` and gives it to ``appointments_signer`` alone (with SELECT on the logs):
the checkpoint activity and ``appointments audit checkpoint`` connect as a login role in that
group (AUDIT_SIGNER_DATABASE_URL), so the application's own code cannot forge a checkpoint.

Migrations run as the owner; only a superuser can get past the triggers (by disabling them),
and that is what the signed checkpoints, their chain and their copies are there to expose.
"""

APP_ROLE = "appointments_app"
SIGNER_ROLE = "appointments_signer"
