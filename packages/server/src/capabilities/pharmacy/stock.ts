/**
 * The pharmacy's stock (migration 0018): lots per warehouse, receipts and dispenses as movements, and the dispensed
 * quantity per prescription line. Every quantity and price stays an exact decimal: it goes to SQL as text, NUMERIC
 * does the arithmetic, and it comes back as text.
 */
import type { Queryable } from '@sen/db';

/** A decimal as the API accepts it: digits, an optional point and up to `scale` decimals (no exponent, no sign). */
export function exactDecimal(raw: unknown, scale: number): string | undefined {
  const s = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim().replace(',', '.') : '';
  const re = new RegExp(`^\\d{1,12}(\\.\\d{1,${scale}})?$`);
  return re.test(s) ? s : undefined;
}

export interface StockLot {
  id: string;
  warehouseId: string;
  drugCode: string;
  drugDisplay: string;
  unit: string | null;
  lotNumber: string;
  /** YYYY-MM-DD */
  expiry: string;
  /** exact decimal as text */
  quantity: string;
  unitPrice: string;
}

interface LotRow {
  id: string;
  warehouse_id: string;
  drug_code: string;
  drug_display: string;
  unit: string | null;
  lot_number: string;
  expiry: string;
  quantity: string;
  unit_price: string;
}

const LOT_COLUMNS = `id::text AS id, warehouse_id, drug_code, drug_display, unit, lot_number,
  to_char(expiry, 'YYYY-MM-DD') AS expiry, quantity::text AS quantity, unit_price::text AS unit_price`;

function lotOf(r: LotRow): StockLot {
  return {
    id: r.id,
    warehouseId: r.warehouse_id,
    drugCode: r.drug_code,
    drugDisplay: r.drug_display,
    unit: r.unit,
    lotNumber: r.lot_number,
    expiry: r.expiry,
    quantity: trimDecimal(r.quantity),
    unitPrice: trimDecimal(r.unit_price),
  };
}

/** `12.500` → `12.5`, `3.000` → `3` (NUMERIC keeps the column's scale). */
export function trimDecimal(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** Lots of a drug in a warehouse that can be dispensed today (not expired, something left), first expiring first. */
export async function dispensableLots(
  q: Queryable,
  facilityId: string,
  warehouseId: string,
  drugCode: string,
  today: string,
): Promise<StockLot[]> {
  const { rows } = await q.query<LotRow>(
    `SELECT ${LOT_COLUMNS} FROM stock_lot
      WHERE facility_id = $1 AND warehouse_id = $2 AND drug_code = $3 AND expiry >= $4::date AND quantity > 0
      ORDER BY expiry, id`,
    [facilityId, warehouseId, drugCode, today],
  );
  return rows.map(lotOf);
}

export async function lotById(q: Queryable, facilityId: string, id: string): Promise<StockLot | undefined> {
  if (!/^\d{1,18}$/.test(id)) {
    return undefined;
  }
  const { rows } = await q.query<LotRow>(`SELECT ${LOT_COLUMNS} FROM stock_lot WHERE facility_id = $1 AND id = $2`, [
    facilityId,
    id,
  ]);
  return rows[0] ? lotOf(rows[0]) : undefined;
}

/**
 * Takes `quantity` out of a lot if that much is there and the lot has not expired: one conditional UPDATE, so two
 * dispenses racing for the last boxes cannot both succeed (the second waits for the first's row lock, then sees
 * the new quantity). Returns what is left, or undefined when the lot cannot give that much.
 */
export async function takeFromLot(
  q: Queryable,
  lotId: string,
  quantity: string,
  today: string,
  movement: { reference: string; actor?: string },
): Promise<string | undefined> {
  const { rows } = await q.query<{ quantity: string }>(
    `UPDATE stock_lot SET quantity = quantity - $2::numeric
      WHERE id = $1 AND quantity >= $2::numeric AND expiry >= $3::date
      RETURNING quantity::text AS quantity`,
    [lotId, quantity, today],
  );
  if (!rows[0]) {
    return undefined;
  }
  await q.query(
    `INSERT INTO stock_movement (lot_id, kind, quantity, reference, actor) VALUES ($1, 'dispense', -($2::numeric), $3, $4)`,
    [lotId, quantity, movement.reference, movement.actor ?? null],
  );
  return trimDecimal(rows[0].quantity);
}

/**
 * Adds `quantity` to what has been dispensed of a prescription line if the total stays within `prescribed` (one
 * conditional upsert, safe under concurrency). Returns the new total, or undefined when it would go over.
 */
export async function addDispensed(
  q: Queryable,
  medicationRequestId: string,
  prescribed: string,
  quantity: string,
): Promise<string | undefined> {
  const { rows } = await q.query<{ dispensed: string }>(
    `INSERT INTO dispensed_quantity AS d (medication_request_id, prescribed, dispensed)
       SELECT $1, $2::numeric, $3::numeric WHERE $3::numeric <= $2::numeric
     ON CONFLICT (medication_request_id) DO UPDATE SET dispensed = d.dispensed + EXCLUDED.dispensed
       WHERE d.dispensed + EXCLUDED.dispensed <= d.prescribed
     RETURNING dispensed::text AS dispensed`,
    [medicationRequestId, prescribed, quantity],
  );
  return rows[0] ? trimDecimal(rows[0].dispensed) : undefined;
}

/** Dispensed so far per prescription line ('0' for lines never dispensed). */
export async function dispensedSoFar(
  q: Queryable,
  medicationRequestIds: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>(medicationRequestIds.map((id) => [id, '0']));
  if (medicationRequestIds.length === 0) {
    return out;
  }
  const { rows } = await q.query<{ id: string; dispensed: string }>(
    `SELECT medication_request_id AS id, dispensed::text AS dispensed FROM dispensed_quantity
      WHERE medication_request_id = ANY($1::text[])`,
    [medicationRequestIds],
  );
  for (const r of rows) {
    out.set(r.id, trimDecimal(r.dispensed));
  }
  return out;
}

export interface ReceiptItem {
  drugCode: string;
  drugDisplay: string;
  unit?: string;
  lotNumber: string;
  expiry: string;
  quantity: string;
  unitPrice: string;
}

export class LotMismatchError extends Error {
  constructor(
    readonly lotNumber: string,
    readonly expiry: string,
  ) {
    super(`lot ${lotNumber} is stored with expiry ${expiry}`);
  }
}

/** Receives goods into a warehouse: the lot is created or topped up, and the receipt is recorded as a movement. */
export async function receive(
  q: Queryable,
  facilityId: string,
  warehouseId: string,
  item: ReceiptItem,
  movement: { reference: string; actor?: string },
): Promise<StockLot> {
  const { rows } = await q.query<LotRow>(
    `INSERT INTO stock_lot AS l (facility_id, warehouse_id, drug_code, drug_display, unit, lot_number, expiry, quantity, unit_price)
       VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8::numeric, $9::numeric)
     ON CONFLICT (facility_id, warehouse_id, drug_code, lot_number)
       DO UPDATE SET quantity = l.quantity + EXCLUDED.quantity WHERE l.expiry = EXCLUDED.expiry
     RETURNING ${LOT_COLUMNS}`,
    [
      facilityId,
      warehouseId,
      item.drugCode,
      item.drugDisplay,
      item.unit ?? null,
      item.lotNumber,
      item.expiry,
      item.quantity,
      item.unitPrice,
    ],
  );
  const row = rows[0];
  if (!row) {
    const { rows: existing } = await q.query<{ expiry: string }>(
      `SELECT to_char(expiry, 'YYYY-MM-DD') AS expiry FROM stock_lot
        WHERE facility_id = $1 AND warehouse_id = $2 AND drug_code = $3 AND lot_number = $4`,
      [facilityId, warehouseId, item.drugCode, item.lotNumber],
    );
    throw new LotMismatchError(item.lotNumber, existing[0]?.expiry ?? '');
  }
  await q.query(
    `INSERT INTO stock_movement (lot_id, kind, quantity, unit_price, reference, actor)
       VALUES ($1, 'receipt', $2::numeric, $3::numeric, $4, $5)`,
    [row.id, item.quantity, item.unitPrice, movement.reference, movement.actor ?? null],
  );
  return lotOf(row);
}

export interface ReportRow extends StockLot {
  /** quantity × unit price, exact */
  value: string;
  expired: boolean;
  nearExpiry: boolean;
  /** whole days from today to the expiry date (negative when expired) */
  daysLeft: number;
}

/** The stock per drug, lot and warehouse, with value and expiry state, by drug then expiry. */
export async function stockReport(
  q: Queryable,
  facilityId: string,
  opts: { today: string; nearDays: number; warehouseId?: string; drugCode?: string; includeEmpty?: boolean },
): Promise<{ rows: ReportRow[]; totalValue: string }> {
  const { rows } = await q.query<LotRow & { value: string; days_left: number }>(
    `SELECT ${LOT_COLUMNS}, (quantity * unit_price)::text AS value, (expiry - $2::date)::int AS days_left
       FROM stock_lot
      WHERE facility_id = $1
        AND ($3::text IS NULL OR warehouse_id = $3)
        AND ($4::text IS NULL OR drug_code = $4)
        AND ($5::boolean OR quantity > 0)
      ORDER BY drug_code, expiry, warehouse_id, id`,
    [facilityId, opts.today, opts.warehouseId ?? null, opts.drugCode ?? null, opts.includeEmpty ?? false],
  );
  const { rows: total } = await q.query<{ total: string | null }>(
    `SELECT COALESCE(SUM(quantity * unit_price), 0)::text AS total FROM stock_lot
      WHERE facility_id = $1 AND ($2::text IS NULL OR warehouse_id = $2) AND ($3::text IS NULL OR drug_code = $3)`,
    [facilityId, opts.warehouseId ?? null, opts.drugCode ?? null],
  );
  return {
    rows: rows.map((r) => {
      const days = Number(r.days_left);
      return {
        ...lotOf(r),
        value: trimDecimal(r.value),
        daysLeft: days,
        expired: days < 0,
        nearExpiry: days >= 0 && days <= opts.nearDays,
      };
    }),
    totalValue: trimDecimal(total[0]?.total ?? '0'),
  };
}
