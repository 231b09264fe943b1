-- The audit sealer computes the hash chain inside the database (see packages/store/src/audit.md): the rows never
-- travel to the application to be hashed. The canonical text is byte for byte the one canonical.ts builds
-- (JSON.stringify of the format tag and the columns as PostgreSQL text): to_json() of a text escapes exactly what
-- JSON.stringify escapes, elements are joined by ',' with no space, and an absent value is null. The verifier
-- (audit:verify) still recomputes every hash in TypeScript, independently of this function.

CREATE FUNCTION audit_canonical_fields(e audit_event) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT concat_ws(',',
    coalesce(to_json(to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text, 'null'),
    coalesce(to_json(e.action)::text, 'null'),
    coalesce(to_json(e.outcome)::text, 'null'),
    coalesce(to_json(e.who)::text, 'null'),
    coalesce(to_json(e.role)::text, 'null'),
    coalesce(to_json(e.client)::text, 'null'),
    coalesce(to_json(e.source_ip)::text, 'null'),
    coalesce(to_json(e.patient)::text, 'null'),
    coalesce(to_json(e.resource_type)::text, 'null'),
    coalesce(to_json(e.resource_id)::text, 'null'),
    coalesce(to_json(e.resource_version)::text, 'null'),
    coalesce(to_json(e.query)::text, 'null'),
    coalesce(to_json(e.purpose)::text, 'null'),
    coalesce(to_json(e.break_glass_reason)::text, 'null'),
    coalesce(to_json(e.detail::text)::text, 'null'))
$$;

-- Seals up to max_rows rows after the chain's head, of transactions older than every running one, in
-- (txid, seq) order. The caller holds the lock row of audit_seal_lock. Returns how many rows were sealed.
CREATE FUNCTION audit_seal_batch(max_rows integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  head_pos  bigint := 0;
  head_seq  bigint := 0;
  head_txid xid8 := '0'::xid8;
  h         bytea := decode(repeat('00', 32), 'hex');
  r         record;
  n         integer := 0;
  positions bigint[] := '{}';
  seqs      bigint[] := '{}';
  txids     xid8[] := '{}';
  contents  bytea[] := '{}';
  hashes    bytea[] := '{}';
BEGIN
  SELECT s.pos, s.seq, s.txid, s.hash INTO head_pos, head_seq, head_txid, h
    FROM audit_seal s ORDER BY s.pos DESC LIMIT 1;
  IF NOT FOUND THEN
    head_pos := 0; head_seq := 0; head_txid := '0'::xid8; h := decode(repeat('00', 32), 'hex');
  END IF;
  FOR r IN
    SELECT e.seq, e.txid, audit_canonical_fields(e) AS fields
      FROM audit_event e
     WHERE (e.txid, e.seq) > (head_txid, head_seq)
       AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY e.txid, e.seq
     LIMIT max_rows
  LOOP
    n := n + 1;
    h := sha256(h || convert_to('["sen-audit/1",' || to_json(r.seq::text)::text || ',' || to_json(r.txid::text)::text
                                  || ',' || r.fields || ']', 'UTF8'));
    positions := positions || (head_pos + n);
    seqs := seqs || r.seq;
    txids := txids || r.txid;
    contents := contents || sha256(convert_to('["sen-audit/1",' || r.fields || ']', 'UTF8'));
    hashes := hashes || h;
  END LOOP;
  IF n > 0 THEN
    INSERT INTO audit_seal (pos, seq, txid, content_hash, hash)
      SELECT * FROM unnest(positions, seqs, txids, contents, hashes);
  END IF;
  RETURN n;
END
$$;
