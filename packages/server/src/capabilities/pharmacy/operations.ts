/**
 * Pharmacy operations (M7): find a sent prescription by its code or the patient (MedicationRequest/$dispensable),
 * dispense it from the lots of a warehouse (MedicationDispense/$dispense), receive goods (Medication/$receive-stock)
 * and report the stock (Medication/$stock-report).
 */
import type { MedicationDispense, ParametersParameter } from '@medplum/fhirtypes';
import type { Queryable } from '@sen/db';
import { outcomes } from '@sen/fhir';
import type { FhirOperation, OperationCall } from '../../fhir/operations.ts';
import type { FhirRouter } from '../../fhir/router.ts';
import { CATALOG_URLS } from '../terminology/kinds.ts';
import type { TerminologyService } from '../terminology/service.ts';
import {
  actorOf,
  DISPENSE_LOT_URL,
  facilityTags,
  fromMilli,
  type LineState,
  lineStates,
  loadPrescription,
  loadWarehouse,
  type Prescription,
  prescriptionState,
  staffOf,
  today,
  toMilli,
} from './service.ts';
import {
  addDispensed,
  dispensableLots,
  exactDecimal,
  LotMismatchError,
  lotById,
  receive,
  type ReceiptItem,
  type StockLot,
  stockReport,
  takeFromLot,
} from './stock.ts';

export interface PharmacyDeps {
  router: FhirRouter;
  terminology: TerminologyService;
  /** Lots expiring within this many days are "near expiry" in the report (default 90). */
  nearExpiryDays: number;
}

const params = (
  parameter: ParametersParameter[],
): { resourceType: 'Parameters'; parameter: ParametersParameter[] } => ({
  resourceType: 'Parameters',
  parameter,
});

function dmy(date: string): string {
  const [y, m, d] = date.split('-');
  return `${d}/${m}/${y}`;
}

function lotParam(l: StockLot): ParametersParameter {
  return {
    name: 'lot',
    part: [
      { name: 'id', valueString: l.id },
      { name: 'lotNumber', valueString: l.lotNumber },
      { name: 'expiry', valueDate: l.expiry },
      { name: 'available', valueDecimal: Number(l.quantity) },
      { name: 'warehouse', valueReference: { reference: `Location/${l.warehouseId}` } },
    ],
  };
}

function drugCodeOf(line: LineState): string | undefined {
  return line.request.medicationCodeableConcept?.coding?.find((c) => c.system === CATALOG_URLS.drugs)?.code;
}

async function prescriptionParam(
  deps: PharmacyDeps,
  call: OperationCall,
  p: Prescription,
  warehouse: { id: string; facilityId: string } | undefined,
): Promise<ParametersParameter> {
  const q = call.q ?? deps.router.store.db;
  const lines = await lineStates(q, p);
  const st = prescriptionState(p, lines);
  const first = p.lines[0];
  const day = today();
  const lineParts: ParametersParameter[] = [];
  for (const l of lines) {
    const code = drugCodeOf(l);
    const lots = warehouse && code ? await dispensableLots(q, warehouse.facilityId, warehouse.id, code, day) : [];
    lineParts.push({
      name: 'line',
      part: [
        { name: 'medicationRequest', resource: l.request },
        { name: 'prescribed', valueDecimal: Number(l.prescribed) },
        { name: 'dispensed', valueDecimal: Number(l.dispensed) },
        { name: 'remaining', valueDecimal: Number(l.remaining) },
        { name: 'unit', valueString: l.unit },
        ...lots.map(lotParam),
      ],
    });
  }
  const name = p.patient?.name?.[0];
  return {
    name: 'prescription',
    part: [
      { name: 'code', valueString: p.code },
      { name: 'status', valueCode: st.state },
      ...(st.replacedBy ? [{ name: 'replacedBy', valueString: st.replacedBy }] : []),
      ...(st.validUntil ? [{ name: 'validUntil', valueDateTime: st.validUntil }] : []),
      {
        name: 'patient',
        valueReference: {
          reference: `Patient/${p.patientId}`,
          display: name ? (name.text ?? [name.family, ...(name.given ?? [])].filter(Boolean).join(' ')) : undefined,
        },
      },
      ...(p.patient?.birthDate ? [{ name: 'birthDate', valueDate: p.patient.birthDate }] : []),
      { name: 'encounter', valueReference: { reference: `Encounter/${p.encounterId}` } },
      ...(first?.authoredOn ? [{ name: 'authoredOn', valueDateTime: first.authoredOn }] : []),
      ...(first?.requester ? [{ name: 'requester', valueReference: first.requester }] : []),
      ...lineParts,
    ],
  };
}

function notFound(code: string): never {
  throw outcomes.notFound(`Không có đơn thuốc mã ${code} / no prescription with code ${code}`);
}

/** MedicationRequest/$dispensable?code=… | ?patient=… [&warehouse=Location id]: the prescription(s) and their lines. */
function dispensable(deps: PharmacyDeps): FhirOperation {
  return {
    name: 'dispensable',
    resourceTypes: ['MedicationRequest'],
    levels: ['type'],
    methods: ['GET', 'POST'],
    access: { action: 'search' },
    async handler(call) {
      const q = call.q ?? deps.router.store.db;
      const code = call.input.string('code')?.trim();
      const patient = call.input
        .string('patient')
        ?.trim()
        .replace(/^Patient\//, '');
      const warehouseId = call.input
        .string('warehouse')
        ?.trim()
        .replace(/^Location\//, '');
      if (!code && !patient) {
        throw outcomes.badRequest("Cần mã đơn thuốc hoặc người bệnh / give 'code' or 'patient'");
      }
      const warehouse = warehouseId
        ? { id: warehouseId, facilityId: (await loadWarehouse(deps.router, call, warehouseId, q)).facilityId }
        : undefined;
      const codes: string[] = [];
      if (code) {
        codes.push(code);
      } else {
        const { rows } = await q.query<{ code: string }>(
          'SELECT code FROM erx_code WHERE patient_id = $1 ORDER BY created_at DESC LIMIT 20',
          [patient],
        );
        codes.push(...rows.map((r) => r.code));
      }
      const out: ParametersParameter[] = [];
      for (const c of codes) {
        const p = await loadPrescription(deps.router, call, c, q);
        if (!p) {
          if (code) {
            notFound(c);
          }
          continue;
        }
        out.push(await prescriptionParam(deps, call, p, warehouse));
      }
      return { status: 200, body: params(out) };
    },
  };
}

interface Allocation {
  line: LineState;
  lot: StockLot;
  quantity: string;
}

function part(p: ParametersParameter, name: string): ParametersParameter | undefined {
  return p.part?.find((x) => x.name === name);
}

/** Splits `quantity` over the lots first expiring first; undefined when they hold too little. */
export function allocateFefo(
  lots: readonly StockLot[],
  quantity: string,
): { lot: StockLot; quantity: string }[] | undefined {
  let left = toMilli(quantity);
  const out: { lot: StockLot; quantity: string }[] = [];
  for (const lot of lots) {
    if (left <= 0n) {
      break;
    }
    const take = toMilli(lot.quantity) < left ? toMilli(lot.quantity) : left;
    if (take > 0n) {
      out.push({ lot, quantity: fromMilli(take) });
      left -= take;
    }
  }
  return left > 0n ? undefined : out;
}

function drugName(line: LineState): string {
  return line.request.medicationCodeableConcept?.coding?.[0]?.display ?? drugCodeOf(line) ?? '';
}

/** The lots and quantities a dispense request asks for, checked against the prescription and the stock. */
async function plan(
  deps: PharmacyDeps,
  call: OperationCall,
  lines: LineState[],
  warehouse: { id: string; facilityId: string },
): Promise<Allocation[]> {
  const q = call.q ?? deps.router.store.db;
  const day = today();
  const requested = call.input.all('line');
  const wanted: { line: LineState; quantity: string; lotId?: string; index: number }[] = [];
  if (requested.length === 0) {
    lines
      .filter((l) => toMilli(l.remaining) > 0n)
      .forEach((l, index) => wanted.push({ line: l, quantity: l.remaining, index }));
  }
  for (const [index, p] of requested.entries()) {
    const ref = part(p, 'medicationRequest');
    const mrId = (ref?.valueReference?.reference ?? ref?.valueString ?? '').replace(/^MedicationRequest\//, '');
    const line = lines.find((l) => l.request.id === mrId);
    if (!line) {
      throw outcomes.badRequest(
        `Dòng ${index + 1}: thuốc không thuộc đơn này / line ${index + 1}: 'medicationRequest' is not a line of this prescription`,
        [`line[${index}].medicationRequest`],
      );
    }
    const qp = part(p, 'quantity');
    const quantity = exactDecimal(qp?.valueDecimal ?? qp?.valueInteger ?? qp?.valueString, 3);
    if (!quantity || toMilli(quantity) <= 0n) {
      throw outcomes.badRequest(
        `Dòng ${index + 1}: số lượng phải lớn hơn 0 (tối đa 3 chữ số thập phân) / line ${index + 1}: 'quantity' must be above 0`,
        [`line[${index}].quantity`],
      );
    }
    const lotId = part(p, 'lot')?.valueString?.trim() || undefined;
    wanted.push({ line, quantity, lotId, index });
  }
  if (wanted.length === 0) {
    throw outcomes.conflict('Đơn thuốc đã phát đủ / the prescription has been dispensed in full');
  }
  // the total per line may not exceed what is left of the prescription
  const perLine = new Map<string, bigint>();
  for (const w of wanted) {
    perLine.set(w.line.request.id as string, (perLine.get(w.line.request.id as string) ?? 0n) + toMilli(w.quantity));
  }
  for (const line of lines) {
    const total = perLine.get(line.request.id as string);
    if (total !== undefined && total > toMilli(line.remaining)) {
      throw overPrescribed(line, fromMilli(total));
    }
  }
  const out: Allocation[] = [];
  for (const w of wanted) {
    const code = drugCodeOf(w.line);
    if (!code) {
      throw outcomes.unprocessable(`Dòng thuốc không có mã danh mục / the prescription line has no catalog code`);
    }
    if (w.lotId) {
      const lot = await lotById(q, warehouse.facilityId, w.lotId);
      if (!lot || lot.warehouseId !== warehouse.id) {
        throw outcomes.unprocessable(`Lô ${w.lotId} không có trong kho này / lot ${w.lotId} is not in this warehouse`, [
          `line[${w.index}].lot`,
        ]);
      }
      if (lot.drugCode !== code) {
        throw outcomes.unprocessable(
          `Lô ${lot.lotNumber} là ${lot.drugDisplay}, không phải ${drugName(w.line)} / lot ${lot.lotNumber} is another drug`,
          [`line[${w.index}].lot`],
        );
      }
      if (lot.expiry < day) {
        throw outcomes.unprocessable(
          `Lô ${lot.lotNumber} của ${lot.drugDisplay} đã hết hạn ngày ${dmy(lot.expiry)}: không được phát / ` +
            `lot ${lot.lotNumber} expired on ${lot.expiry} and cannot be dispensed`,
          [`line[${w.index}].lot`],
        );
      }
      if (toMilli(lot.quantity) < toMilli(w.quantity)) {
        throw notEnough(w.line, w.quantity, lot.quantity, lot.lotNumber);
      }
      out.push({ line: w.line, lot, quantity: w.quantity });
    } else {
      const lots = await dispensableLots(q, warehouse.facilityId, warehouse.id, code, day);
      const picked = allocateFefo(lots, w.quantity);
      if (!picked) {
        const have = lots.reduce((s, l) => s + toMilli(l.quantity), 0n);
        throw notEnough(w.line, w.quantity, fromMilli(have));
      }
      out.push(...picked.map((x) => ({ line: w.line, lot: x.lot, quantity: x.quantity })));
    }
  }
  return out;
}

function overPrescribed(line: LineState, asked: string): Error {
  return outcomes.unprocessable(
    `${drugName(line)}: kê ${line.prescribed} ${line.unit}, đã phát ${line.dispensed}, chỉ còn được phát ${line.remaining} — ` +
      `không phát ${asked} được / ${drugName(line)}: prescribed ${line.prescribed}, dispensed ${line.dispensed}, ` +
      `only ${line.remaining} left to dispense, not ${asked}`,
  );
}

function notEnough(line: LineState, asked: string, have: string, lotNumber?: string): Error {
  return outcomes.conflict(
    `Không đủ tồn kho ${drugName(line)}${lotNumber ? ` lô ${lotNumber}` : ''}: cần ${asked}, còn ${have} (chưa hết hạn) / ` +
      `not enough ${drugName(line)}${lotNumber ? ` in lot ${lotNumber}` : ''} in stock: need ${asked}, have ${have}`,
  );
}

/** MedicationDispense/$dispense: prescriptionCode, warehouse, line* (medicationRequest, quantity, lot?). */
function dispense(deps: PharmacyDeps): FhirOperation {
  return {
    name: 'dispense',
    resourceTypes: ['MedicationDispense'],
    levels: ['type'],
    methods: ['POST'],
    access: { action: 'create' },
    async handler(call) {
      const typed = call.input.string('prescriptionCode')?.trim();
      if (!typed) {
        throw outcomes.badRequest("Cần mã đơn thuốc / the parameter 'prescriptionCode' is required");
      }
      const warehouseId = call.input
        .string('warehouse')
        ?.trim()
        .replace(/^Location\//, '');
      if (!warehouseId) {
        throw outcomes.badRequest("Cần chọn kho phát thuốc / the parameter 'warehouse' (Location id) is required");
      }
      const db = call.q ?? deps.router.store.db;
      const p = (await loadPrescription(deps.router, call, typed, db)) ?? notFound(typed);
      const code = p.code;
      const wh = await loadWarehouse(deps.router, call, warehouseId, db);
      const warehouse = { id: warehouseId, facilityId: wh.facilityId };
      const lines = await lineStates(db, p);
      const st = prescriptionState(p, lines);
      if (st.state === 'replaced' || st.state === 'stopped') {
        throw outcomes.conflict(
          st.replacedBy
            ? `Đơn thuốc ${code} đã được thay thế bởi đơn ${st.replacedBy}: hãy phát theo đơn mới / prescription ${code} was replaced by ${st.replacedBy}`
            : `Đơn thuốc ${code} đã ngưng: không phát được / prescription ${code} has been stopped`,
        );
      }
      if (st.state === 'complete') {
        throw outcomes.conflict(`Đơn thuốc ${code} đã phát đủ / prescription ${code} has been dispensed in full`);
      }
      if (st.state === 'expired') {
        throw outcomes.unprocessable(
          `Đơn thuốc ${code} đã quá hạn lĩnh thuốc (hết hạn ${st.validUntil ?? ''}) / prescription ${code} is no longer valid`,
        );
      }
      const allocations = await plan(deps, call, lines, warehouse);
      const staff = staffOf(call);
      const actor = actorOf(call);
      const day = today();
      const run = async (q: Queryable): Promise<MedicationDispense[]> => {
        // lock order: prescription lines by id, then lots by id (two dispensers never wait on each other in a cycle)
        const totals = new Map<string, { line: LineState; milli: bigint }>();
        for (const a of allocations) {
          const id = a.line.request.id as string;
          const cur = totals.get(id) ?? { line: a.line, milli: 0n };
          cur.milli += toMilli(a.quantity);
          totals.set(id, cur);
        }
        for (const [id, t] of [...totals.entries()].sort(([x], [y]) => (x < y ? -1 : 1))) {
          const after = await addDispensed(q, id, t.line.prescribed, fromMilli(t.milli));
          if (after === undefined) {
            const fresh = (await lineStates(q, { ...p, lines: [t.line.request] }))[0] ?? t.line;
            throw overPrescribed(fresh, fromMilli(t.milli));
          }
        }
        const out: MedicationDispense[] = [];
        const now = new Date().toISOString();
        for (const a of [...allocations].sort((x, y) => Number(x.lot.id) - Number(y.lot.id))) {
          const mr = a.line.request;
          const md: MedicationDispense = {
            resourceType: 'MedicationDispense',
            ...(facilityTags(mr).length > 0 ? { meta: { tag: facilityTags(mr) } } : {}),
            extension: [
              {
                url: DISPENSE_LOT_URL,
                extension: [
                  { url: 'lotNumber', valueString: a.lot.lotNumber },
                  { url: 'expirationDate', valueDate: a.lot.expiry },
                  { url: 'stockLot', valueString: a.lot.id },
                ],
              },
            ],
            identifier: [{ system: 'https://sen.health.vn/sid/e-prescription/dispense', value: code }],
            status: 'completed',
            category: {
              coding: [
                {
                  system: 'http://terminology.hl7.org/fhir/CodeSystem/medicationdispense-category',
                  code: 'outpatient',
                },
              ],
            },
            medicationCodeableConcept: mr.medicationCodeableConcept,
            subject: { reference: `Patient/${p.patientId}` },
            context: { reference: `Encounter/${p.encounterId}` },
            ...(staff?.practitionerId
              ? { performer: [{ actor: { reference: `Practitioner/${staff.practitionerId}` } }] }
              : {}),
            location: { reference: `Location/${warehouse.id}`, display: wh.location.name },
            authorizingPrescription: [{ reference: `MedicationRequest/${mr.id}` }],
            quantity: { value: Number(a.quantity), unit: a.line.unit },
            ...(mr.dispenseRequest?.expectedSupplyDuration
              ? { daysSupply: mr.dispenseRequest.expectedSupplyDuration }
              : {}),
            whenPrepared: now,
            whenHandedOver: now,
            ...(mr.dosageInstruction ? { dosageInstruction: mr.dosageInstruction } : {}),
          };
          call.req.access?.check('create', 'MedicationDispense', md, [p.patientId]);
          const saved = (await deps.router.store.create(md, q)).resource as MedicationDispense;
          const left = await takeFromLot(q, a.lot.id, a.quantity, day, {
            reference: `MedicationDispense/${saved.id}`,
            actor,
          });
          if (left === undefined) {
            throw notEnough(a.line, a.quantity, 'ít hơn / less', a.lot.lotNumber);
          }
          out.push(saved);
        }
        return out;
      };
      const written = call.q ? await run(call.q) : await deps.router.store.transaction(run);
      const after = await lineStates(db, p);
      return {
        status: 200,
        body: params([
          ...written.map((m) => ({ name: 'medicationDispense', resource: m })),
          ...after.map((l) => ({
            name: 'line',
            part: [
              { name: 'medicationRequest', valueReference: { reference: `MedicationRequest/${l.request.id}` } },
              { name: 'dispensed', valueDecimal: Number(l.dispensed) },
              { name: 'remaining', valueDecimal: Number(l.remaining) },
            ],
          })),
          { name: 'complete', valueBoolean: after.every((l) => toMilli(l.remaining) === 0n) },
        ]),
      };
    },
  };
}

/** Medication/$receive-stock: warehouse, receiptNumber?, item* (drug, lot, expiry, quantity, unitPrice). */
function receiveStock(deps: PharmacyDeps): FhirOperation {
  return {
    name: 'receive-stock',
    resourceTypes: ['Medication'],
    levels: ['type'],
    methods: ['POST'],
    // stock is the pharmacy's: the gate asks for the dispensing permission (pharmacist)
    access: { action: 'create', resourceType: 'MedicationDispense' },
    async handler(call) {
      const warehouseId = call.input
        .string('warehouse')
        ?.trim()
        .replace(/^Location\//, '');
      if (!warehouseId) {
        throw outcomes.badRequest("Cần chọn kho nhập / the parameter 'warehouse' (Location id) is required");
      }
      const itemsIn = call.input.all('item');
      if (itemsIn.length === 0 || itemsIn.length > 200) {
        throw outcomes.badRequest("Phiếu nhập cần 1–200 dòng / give 1 to 200 'item'");
      }
      const db = call.q ?? deps.router.store.db;
      const wh = await loadWarehouse(deps.router, call, warehouseId, db);
      const version = await deps.terminology.resolve(CATALOG_URLS.drugs);
      const day = today();
      const items: ReceiptItem[] = [];
      for (const [i, p] of itemsIn.entries()) {
        const at = (n: string): string[] => [`item[${i}].${n}`];
        const d = part(p, 'drug');
        const drugCode = d?.valueCoding?.code ?? d?.valueCode ?? d?.valueString;
        const concept = drugCode ? await deps.terminology.concept(version, drugCode) : undefined;
        if (!drugCode || !concept) {
          throw outcomes.badRequest(
            `Dòng ${i + 1}: mã thuốc '${drugCode ?? ''}' không có trong danh mục / item ${i + 1}: drug not in the catalog`,
            at('drug'),
          );
        }
        const lotNumber = part(p, 'lot')?.valueString?.trim();
        if (!lotNumber || lotNumber.length > 40) {
          throw outcomes.badRequest(`Dòng ${i + 1}: cần số lô / item ${i + 1}: 'lot' is required`, at('lot'));
        }
        const e = part(p, 'expiry');
        const expiry = e?.valueDate ?? e?.valueString;
        if (!expiry || !/^\d{4}-\d{2}-\d{2}$/.test(expiry) || Number.isNaN(Date.parse(expiry))) {
          throw outcomes.badRequest(
            `Dòng ${i + 1}: hạn dùng phải là ngày YYYY-MM-DD / item ${i + 1}: 'expiry' must be a date`,
            at('expiry'),
          );
        }
        if (expiry < day) {
          throw outcomes.unprocessable(
            `Dòng ${i + 1}: lô ${lotNumber} đã hết hạn ngày ${dmy(expiry)}, không nhập kho được / item ${i + 1}: lot ${lotNumber} has expired`,
            at('expiry'),
          );
        }
        const qp = part(p, 'quantity');
        const quantity = exactDecimal(qp?.valueDecimal ?? qp?.valueInteger ?? qp?.valueString, 3);
        if (!quantity || toMilli(quantity) <= 0n) {
          throw outcomes.badRequest(
            `Dòng ${i + 1}: số lượng phải lớn hơn 0 / item ${i + 1}: 'quantity' must be above 0`,
            at('quantity'),
          );
        }
        const pp = part(p, 'unitPrice');
        const unitPrice = exactDecimal(
          pp?.valueDecimal ?? pp?.valueInteger ?? pp?.valueString ?? pp?.valueMoney?.value,
          2,
        );
        if (unitPrice === undefined) {
          throw outcomes.badRequest(
            `Dòng ${i + 1}: đơn giá phải là số không âm, tối đa 2 chữ số thập phân / item ${i + 1}: 'unitPrice' must be a decimal ≥ 0 with at most 2 places`,
            at('unitPrice'),
          );
        }
        const unit = concept.property?.find((x) => x.code === 'unit')?.valueString;
        items.push({
          drugCode,
          drugDisplay: concept.display ?? drugCode,
          unit,
          lotNumber,
          expiry,
          quantity,
          unitPrice,
        });
      }
      const reference = call.input.string('receiptNumber')?.trim() || `PN-${new Date().toISOString()}`;
      const actor = actorOf(call);
      const lots = await deps.router.store.transaction(async (q) => {
        const out: StockLot[] = [];
        for (const item of items) {
          try {
            out.push(await receive(q, wh.facilityId, warehouseId, item, { reference, actor }));
          } catch (err) {
            if (err instanceof LotMismatchError) {
              throw outcomes.unprocessable(
                `Lô ${err.lotNumber} đã có trong kho với hạn dùng ${dmy(err.expiry)}, khác ${dmy(item.expiry)} / ` +
                  `lot ${err.lotNumber} is stored with expiry ${err.expiry}, not ${item.expiry}`,
              );
            }
            throw err;
          }
        }
        return out;
      });
      const { rows } = await db.query<{ total: string }>(
        `SELECT COALESCE(SUM(quantity * unit_price), 0)::text AS total
           FROM stock_movement WHERE kind = 'receipt' AND reference = $1`,
        [reference],
      );
      return {
        status: 200,
        body: params([
          { name: 'receiptNumber', valueString: reference },
          { name: 'warehouse', valueReference: { reference: `Location/${warehouseId}`, display: wh.location.name } },
          // exact: NUMERIC arithmetic, as text (VND)
          { name: 'totalValue', valueString: trimZeros(rows[0]?.total ?? '0') },
          ...lots.map((l) => ({
            ...lotParam(l),
            part: [
              ...(lotParam(l).part ?? []),
              { name: 'drug', valueCoding: { system: CATALOG_URLS.drugs, code: l.drugCode, display: l.drugDisplay } },
            ],
          })),
        ]),
      };
    },
  };
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** Medication/$stock-report [warehouse, drug, nearExpiryDays, includeEmpty]: per drug, lot and warehouse. */
function stockReportOp(deps: PharmacyDeps): FhirOperation {
  return {
    name: 'stock-report',
    resourceTypes: ['Medication'],
    levels: ['type'],
    methods: ['GET', 'POST'],
    access: { action: 'search', resourceType: 'MedicationDispense' },
    async handler(call) {
      const db = call.q ?? deps.router.store.db;
      const warehouseId =
        call.input
          .string('warehouse')
          ?.trim()
          .replace(/^Location\//, '') || undefined;
      const staff = staffOf(call);
      let facilityId = staff?.facilityId;
      if (warehouseId) {
        facilityId = (await loadWarehouse(deps.router, call, warehouseId, db)).facilityId;
      }
      if (!facilityId) {
        throw outcomes.badRequest("Cần chọn kho / give 'warehouse'");
      }
      const nearDays = call.input.integer('nearExpiryDays') ?? deps.nearExpiryDays;
      if (nearDays < 0 || nearDays > 3650) {
        throw outcomes.badRequest("'nearExpiryDays' phải từ 0 đến 3650 / must be 0–3650");
      }
      const report = await stockReport(db, facilityId, {
        today: today(),
        nearDays,
        warehouseId,
        drugCode: call.input.string('drug')?.trim() || undefined,
        includeEmpty: call.input.boolean('includeEmpty') ?? false,
      });
      return {
        status: 200,
        body: params([
          { name: 'date', valueDate: today() },
          { name: 'nearExpiryDays', valueInteger: nearDays },
          { name: 'totalValue', valueString: report.totalValue },
          ...report.rows.map((r) => ({
            name: 'row',
            part: [
              { name: 'drug', valueCoding: { system: CATALOG_URLS.drugs, code: r.drugCode, display: r.drugDisplay } },
              ...(r.unit ? [{ name: 'unit', valueString: r.unit }] : []),
              { name: 'warehouse', valueReference: { reference: `Location/${r.warehouseId}` } },
              { name: 'lotId', valueString: r.id },
              { name: 'lotNumber', valueString: r.lotNumber },
              { name: 'expiry', valueDate: r.expiry },
              { name: 'daysLeft', valueInteger: r.daysLeft },
              { name: 'quantity', valueDecimal: Number(r.quantity) },
              { name: 'unitPrice', valueString: r.unitPrice },
              { name: 'value', valueString: r.value },
              { name: 'state', valueCode: r.expired ? 'expired' : r.nearExpiry ? 'near-expiry' : 'ok' },
            ],
          })),
        ]),
      };
    },
  };
}

export function pharmacyOperations(deps: PharmacyDeps): FhirOperation[] {
  return [dispensable(deps), dispense(deps), receiveStock(deps), stockReportOp(deps)];
}
