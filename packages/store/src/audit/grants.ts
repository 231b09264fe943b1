/**
 * PostgreSQL production: the statements that leave the application's role able to append to the audit trail and
 * read it, and nothing else. Run them as the tables' owner (the role that runs the migrations), which must not be
 * the application's role: an owner can disable or drop the append-only triggers.
 */
export function auditGrantStatements(appRole: string): string[] {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(appRole)) {
    throw new TypeError('role name must be a lower-case SQL identifier');
  }
  return [
    `REVOKE ALL ON audit_event, audit_seal, audit_seal_lock FROM PUBLIC, ${appRole}`,
    `GRANT SELECT, INSERT ON audit_event, audit_seal TO ${appRole}`,
    `GRANT USAGE ON SEQUENCE audit_event_seq_seq TO ${appRole}`,
    // SELECT … FOR UPDATE on the sealer's lock row needs the UPDATE privilege on that table (and only there).
    `GRANT SELECT, UPDATE ON audit_seal_lock TO ${appRole}`,
  ];
}
