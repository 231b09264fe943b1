/**
 * Demo stock (M7): lots with expiry dates for every drug of the demo drug catalog, in the two places of Khoa Dược
 * (K08): the hospital pharmacy (Nhà thuốc bệnh viện, where outpatients are served) and the drug store room (Kho
 * dược). One lot per drug in the pharmacy expires soon, so the stock report shows near-expiry lots. Idempotent: a
 * lot already there (same warehouse, drug and lot number) is left as it is; the receipt movement is written once.
 */
import { readFileSync } from 'node:fs';
import type { Queryable } from '@sen/db';
import { vietnamDay } from '@sen/vn';
import { demoFile } from '../capabilities/terminology/demo.ts';
import { parseCsvText } from '../capabilities/terminology/files.ts';
import { demoId } from './demo-builder.ts';
import { HOSPITAL_ID } from './demo-facility.ts';

/** Nhà thuốc bệnh viện (K08, room 1) and Kho dược (K08, room 2). */
export const DEMO_PHARMACY_ID = demoId('loc', 'K08', 'r1');
export const DEMO_DRUG_STORE_ID = demoId('loc', 'K08', 'r2');

interface DemoLot {
  warehouseId: string;
  drugCode: string;
  drugDisplay: string;
  unit: string;
  lotNumber: string;
  expiry: string;
  quantity: string;
  /** catalog price as text (the purchase price is 80 % of it, computed in NUMERIC) */
  price: string;
}

/** The demo lots as of `now` (expiry dates count from the day of the first seeding). */
export function demoLots(now: Date = new Date()): DemoLot[] {
  const { records } = parseCsvText(readFileSync(demoFile('drugs.demo.csv'), 'utf8'));
  const day = (offset: number): string => vietnamDay(new Date(now.getTime() + offset * 86_400_000));
  const out: DemoLot[] = [];
  records.forEach((r, i) => {
    const code = String(r.code);
    const display = `${String(r.brand || r.inn)} ${String(r.strength ?? '')}`.trim();
    const base = { drugCode: code, drugDisplay: display, unit: String(r.unit ?? ''), price: String(r.price ?? '0') };
    const n = String(i + 1).padStart(3, '0');
    out.push(
      { ...base, warehouseId: DEMO_PHARMACY_ID, lotNumber: `NT${n}A`, expiry: day(45 + (i % 4) * 10), quantity: '60' },
      { ...base, warehouseId: DEMO_PHARMACY_ID, lotNumber: `NT${n}B`, expiry: day(400 + i * 7), quantity: '300' },
      { ...base, warehouseId: DEMO_DRUG_STORE_ID, lotNumber: `KD${n}A`, expiry: day(540 + i * 5), quantity: '2000' },
    );
  });
  return out;
}

/** Puts the demo lots in the pharmacy's warehouses (once). */
export async function seedDemoStock(db: Queryable, now: Date = new Date()): Promise<number> {
  let created = 0;
  for (const lot of demoLots(now)) {
    const { rows } = await db.query<{ id: string; quantity: string; unit_price: string }>(
      `INSERT INTO stock_lot (facility_id, warehouse_id, drug_code, drug_display, unit, lot_number, expiry, quantity, unit_price)
         VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8::numeric, round($9::numeric * 0.8, 2))
       ON CONFLICT (facility_id, warehouse_id, drug_code, lot_number) DO NOTHING
       RETURNING id::text AS id, quantity::text AS quantity, unit_price::text AS unit_price`,
      [
        HOSPITAL_ID,
        lot.warehouseId,
        lot.drugCode,
        lot.drugDisplay,
        lot.unit,
        lot.lotNumber,
        lot.expiry,
        lot.quantity,
        lot.price,
      ],
    );
    const row = rows[0];
    if (row) {
      created++;
      await db.query(
        `INSERT INTO stock_movement (lot_id, kind, quantity, unit_price, reference, actor)
           VALUES ($1, 'receipt', $2::numeric, $3::numeric, 'PN-DEMO', 'seed')`,
        [row.id, row.quantity, row.unit_price],
      );
    }
  }
  return created;
}
