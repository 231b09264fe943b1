import type { Queryable } from '@sen/db';
import { chainHash, contentHash, GENESIS_HASH, type RawAuditRow, rowColumns } from './canonical.ts';
import type { AuditHead, AuditProblem, AuditVerifyResult } from './types.ts';

export interface AuditVerifyOptions {
  /**
   * A chain head recorded earlier outside the database (printed by `npm run audit:verify`). The chain must still
   * have that hash at that position: this detects a rewrite of the chain itself, which the chain alone cannot.
   */
  anchor?: { pos: string; hash: string };
  /** Seals read per query (default 5000). */
  pageSize?: number;
  /** Stop collecting after this many problems (default 1000). */
  maxProblems?: number;
}

interface SealJoinRow extends Omit<RawAuditRow, 'seq' | 'txid'> {
  s_pos: string;
  s_seq: string;
  s_txid: string;
  s_content: string;
  s_hash: string;
  seq: string | null;
  txid: string | null;
}

interface Changed {
  seq: string;
  pos: bigint;
  sealedContent: string;
  currentContent: string;
}

/** Seals removed between two remaining ones: rows sorting between them lost their seal. */
interface Gap {
  after?: [bigint, bigint];
  before: [bigint, bigint];
  range: string;
}

interface Vanished {
  seq: string;
  pos: bigint;
  sealedContent: string;
}

/**
 * Walks the whole chain in position order and checks every sealed row against its seal, then looks for rows that
 * sort inside the sealed part of the order but carry no seal. Read-only; safe while writers and the sealer run.
 *
 * - altered: the row's content differs from what was sealed (or a seal itself was changed);
 * - missing: a sealed row (or a run of seals) is gone;
 * - reordered: a sealed record sits elsewhere in the order — its content is found under another seq, or its
 *   transaction id changed;
 * - inserted: a row sorts before the chain's head but was never sealed (written behind the sealer's back).
 */
export async function verifyAuditChain(db: Queryable, options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
  const pageSize = Math.max(1, Math.min(options.pageSize ?? 5000, 50_000));
  const maxProblems = Math.max(1, options.maxProblems ?? 1000);
  const problems: AuditProblem[] = [];
  const changed: Changed[] = [];
  const vanished: Vanished[] = [];
  const gaps: Gap[] = [];
  const anchorPos = options.anchor ? BigInt(options.anchor.pos) : undefined;
  let anchorSeen = false;
  let prevHash: string | null = GENESIS_HASH;
  let prevPos = 0n;
  let prevOrder: [bigint, bigint] | undefined;
  let head: AuditHead | undefined;
  let sealed = 0;
  const tooMany = (): boolean => problems.length + changed.length + vanished.length > maxProblems;

  for (;;) {
    const { rows } = await db.query<SealJoinRow>(
      `SELECT s.pos::text AS s_pos, s.seq::text AS s_seq, s.txid::text AS s_txid,
              encode(s.content_hash, 'hex') AS s_content, encode(s.hash, 'hex') AS s_hash, ${rowColumns('e')}
         FROM audit_seal s LEFT JOIN audit_event e ON e.seq = s.seq
        WHERE s.pos > $1::bigint
        ORDER BY s.pos
        LIMIT ${pageSize}`,
      [prevPos.toString()],
    );
    for (const r of rows) {
      const pos = BigInt(r.s_pos);
      sealed++;
      const order: [bigint, bigint] = [BigInt(r.s_txid), BigInt(r.s_seq)];
      if (pos !== prevPos + 1n) {
        const range = pos - 1n === prevPos + 1n ? `${prevPos + 1n}` : `${prevPos + 1n}–${pos - 1n}`;
        gaps.push({ after: prevOrder, before: order, range });
        problems.push({
          seq: r.s_seq,
          kind: 'missing',
          message: `seals at chain position ${range}, just before seq ${r.s_seq}, were removed`,
        });
        prevHash = null;
      }
      if (prevOrder && compareOrder(order, prevOrder) <= 0) {
        problems.push({
          seq: r.s_seq,
          kind: 'reordered',
          message: `the seal at chain position ${pos} (seq ${r.s_seq}) is out of (txid, seq) order: seals were reordered`,
        });
      }
      if (r.seq === null || r.txid === null) {
        vanished.push({ seq: r.s_seq, pos, sealedContent: r.s_content });
      } else {
        const row = r as unknown as RawAuditRow;
        const current = contentHash(row);
        const link = prevHash === null ? undefined : chainHash(prevHash, row) === r.s_hash;
        const contentOk = current === r.s_content;
        if (link === true && contentOk) {
          // intact
        } else if (link === true) {
          problems.push({
            seq: r.seq,
            kind: 'altered',
            message: `the seal of seq ${r.seq} (chain position ${pos}) was altered: its content hash changed`,
          });
        } else if (!contentOk) {
          changed.push({ seq: r.seq, pos, sealedContent: r.s_content, currentContent: current });
        } else if (r.txid !== r.s_txid) {
          problems.push({
            seq: r.seq,
            kind: 'reordered',
            message: `seq ${r.seq} (chain position ${pos}) was moved in the order: its transaction id changed`,
          });
        } else if (link === false) {
          problems.push({
            seq: r.seq,
            kind: 'altered',
            message: `the chain breaks at position ${pos} (seq ${r.seq}): this seal or the one before it was altered`,
          });
        }
      }
      if (anchorPos !== undefined && pos === anchorPos) {
        anchorSeen = true;
        if (r.s_hash !== options.anchor?.hash.toLowerCase()) {
          problems.push({
            seq: r.s_seq,
            kind: 'altered',
            message: `the seal at chain position ${pos} differs from the anchor: the chain was rewritten at or before it`,
          });
        }
      }
      prevHash = r.s_hash;
      prevPos = pos;
      prevOrder = order;
      head = { pos: r.s_pos, seq: r.s_seq, txid: r.s_txid, hash: r.s_hash };
    }
    if (rows.length < pageSize || tooMany()) {
      break;
    }
  }
  if (anchorPos !== undefined && !anchorSeen && !tooMany()) {
    problems.push({
      seq: null,
      kind: 'missing',
      message: `chain position ${anchorPos} of the anchor no longer exists: the chain was cut back`,
    });
  }

  // Rows that sort inside the sealed part of the order but have no seal: every row there was sealed, because
  // rows are only sealed once their transaction is over and later transactions get larger ids.
  const headTxid = head?.txid ?? '0';
  const headSeq = head?.seq ?? '0';
  const strays = head
    ? (
        await db.query<RawAuditRow>(
          `SELECT ${rowColumns('e')} FROM audit_event e
            WHERE (e.txid, e.seq) <= ($1::xid8, $2::bigint)
              AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.seq = e.seq)
            ORDER BY e.txid, e.seq
            LIMIT ${maxProblems + 1}`,
          [headTxid, headSeq],
        )
      ).rows
    : [];
  const { rows: counted } = await db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM audit_event e
      WHERE (e.txid, e.seq) > ($1::xid8, $2::bigint)
        AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.seq = e.seq)`,
    [headTxid, headSeq],
  );
  const unsealed = Number(counted[0]?.n ?? 0);

  // A record whose sealed content turns up under another seq was moved (reordered), not altered or lost.
  const sealedContentAt = new Map<string, string>();
  for (const c of [...changed, ...vanished]) {
    sealedContentAt.set(c.sealedContent, c.seq);
  }
  const currentContentAt = new Map<string, string>();
  for (const c of changed) {
    currentContentAt.set(c.currentContent, c.seq);
  }
  const strayContent = strays.map((s) => ({
    seq: s.seq,
    content: contentHash(s),
    gap: gaps.find((g) => {
      const o: [bigint, bigint] = [BigInt(s.txid), BigInt(s.seq)];
      return (!g.after || compareOrder(o, g.after) > 0) && compareOrder(o, g.before) < 0;
    }),
  }));
  for (const s of strayContent) {
    currentContentAt.set(s.content, s.seq);
  }
  for (const c of changed) {
    const from = sealedContentAt.get(c.currentContent);
    problems.push(
      from !== undefined && from !== c.seq
        ? { seq: c.seq, kind: 'reordered', message: `seq ${c.seq} holds the record sealed as seq ${from}` }
        : {
            seq: c.seq,
            kind: 'altered',
            message: `seq ${c.seq} differs from what was sealed at chain position ${c.pos}`,
          },
    );
  }
  for (const v of vanished) {
    const to = currentContentAt.get(v.sealedContent);
    problems.push(
      to !== undefined && to !== v.seq
        ? { seq: v.seq, kind: 'reordered', message: `the record sealed as seq ${v.seq} now sits at seq ${to}` }
        : { seq: v.seq, kind: 'missing', message: `seq ${v.seq}, sealed at chain position ${v.pos}, was removed` },
    );
  }
  for (const s of strayContent) {
    const from = sealedContentAt.get(s.content);
    if (from !== undefined) {
      problems.push({ seq: s.seq, kind: 'reordered', message: `seq ${s.seq} holds the record sealed as seq ${from}` });
    } else if (s.gap) {
      problems.push({
        seq: s.seq,
        kind: 'missing',
        message: `the seal of seq ${s.seq} was removed (chain position ${s.gap.range})`,
      });
    } else {
      problems.push({
        seq: s.seq,
        kind: 'inserted',
        message: `seq ${s.seq} was never sealed but sorts inside the sealed chain (before position ${head?.pos})`,
      });
    }
  }

  if (problems.length === 0) {
    return { ok: true, sealed, unsealed, head };
  }
  problems.sort((a, b) => compareSeq(a.seq, b.seq));
  const truncated = problems.length > maxProblems || tooMany() || strays.length > maxProblems;
  return { ok: false, sealed, unsealed, head, problems: problems.slice(0, maxProblems), truncated };
}

function compareOrder(a: [bigint, bigint], b: [bigint, bigint]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

function compareSeq(a: string | null, b: string | null): number {
  if (a === null || b === null) {
    return a === b ? 0 : a === null ? -1 : 1;
  }
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
