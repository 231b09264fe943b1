/**
 * Who pays what on each charge line: the BHYT fund's share, the patient's co-payment (cùng chi trả) and the part
 * outside the BHYT scope (tự túc). Pure functions over decimal.js, so no money is ever a floating-point number.
 *
 * The rules (Law on Health Insurance 25/2008/QH12 as amended by 46/2014/QH13, art. 22; Decree 146/2018/ND-CP art. 14;
 * their 2024 amendment by Law 51/2024/QH15 keeps the same shape for the cases below) — [B] background knowledge:
 * ../shared/VIETNAM.md does not cover benefit rules, only the card's 1–5 benefit-level digit (§3) and the claim
 * fields MUC_HUONG, TYLE_TT_DV/TYLE_TT_BH, T_BHTT, T_BNCCT, T_BNTT (§2, Decision 130 as patched by 4750/3176):
 *
 * - benefit level (card digit, @sen/vn BHYT_BENEFIT_LEVELS): 1, 2, 5 → 100 %, 3 → 95 %, 4 → 80 %;
 * - the service's or drug's BHYT payment rate (TYLE_TT_DV / TYLE_TT_BH, %): only that part of the price is in scope;
 *   the rest is the patient's (T_BNTT); items outside the BHYT list (rate 0, no BHYT price) are wholly the patient's;
 * - the visit's route: right route (đúng tuyến), a referral (chuyển tuyến) and an emergency (cấp cứu — always counted as
 *   right route) get the full benefit level; a wrong-route (trái tuyến) **outpatient** visit at a central or provincial
 *   hospital is not covered (0 %), at a district or commune facility it is (100 % of the level, "thông tuyến");
 *   wrong-route **inpatient** care: 40 % at central, 100 % at provincial, district and commune level;
 * - levels 3 and 4 get 100 % at commune level;
 * - the small-amount rule: a right-route visit whose in-scope total is below 15 % of the base salary (lương cơ sở) is
 *   paid 100 % by the fund (2,340,000 đ from 01/07/2024, Decree 73/2024/ND-CP → threshold 351,000 đ; configurable).
 *
 * Rounding (stated): a line's amount `unit price × quantity` is rounded to whole đồng (half up); its in-scope part
 * (× payment rate) and the fund's share (× benefit %) are rounded to whole đồng half up; the patient's parts are the
 * remainders, so every line adds up exactly (fund + co-payment + outside-scope = amount) and so does the invoice.
 */
import Decimal from 'decimal.js';

export type Route = 'right-route' | 'referral' | 'emergency' | 'wrong-route';
export const ROUTES: readonly Route[] = ['right-route', 'referral', 'emergency', 'wrong-route'];
export type FacilityLevel = 'central' | 'provincial' | 'district' | 'commune';
export const FACILITY_LEVELS: readonly FacilityLevel[] = ['central', 'provincial', 'district', 'commune'];

/** Percent of the in-scope cost the fund pays by benefit level (card digit 1–5). */
export const BENEFIT_PERCENT: Readonly<Record<number, number>> = { 1: 100, 2: 100, 3: 95, 4: 80, 5: 100 };

/** Base salary (lương cơ sở), VND, from 01/07/2024 (Decree 73/2024/ND-CP) [B]. */
export const DEFAULT_BASE_SALARY = 2_340_000;

export interface ShareContext {
  /** The card's benefit level 1–5; undefined: no usable card (fee-paying). */
  benefitLevel?: number;
  route: Route;
  inpatient?: boolean;
  facilityLevel: FacilityLevel;
  baseSalary?: number;
}

/** What the fund pays of the in-scope cost for this visit before the small-amount rule, as a percentage. */
export function routePercent(ctx: ShareContext): number {
  if (ctx.route !== 'wrong-route') {
    return 100;
  }
  if (ctx.inpatient) {
    return ctx.facilityLevel === 'central' ? 40 : 100;
  }
  return ctx.facilityLevel === 'central' || ctx.facilityLevel === 'provincial' ? 0 : 100;
}

/** The benefit percent applied to the in-scope cost (before the small-amount rule). */
export function benefitPercent(ctx: ShareContext): number {
  if (ctx.benefitLevel === undefined || !(ctx.benefitLevel in BENEFIT_PERCENT)) {
    return 0;
  }
  const level =
    ctx.facilityLevel === 'commune' && (ctx.benefitLevel === 3 || ctx.benefitLevel === 4)
      ? 100
      : BENEFIT_PERCENT[ctx.benefitLevel];
  return new Decimal(level).times(routePercent(ctx)).div(100).toNumber();
}

export interface LineInput {
  key: string;
  /** Unit price in VND (BHYT price for covered items on a BHYT visit, else the service price). */
  unitPrice: Decimal.Value;
  quantity: Decimal.Value;
  /** The item's BHYT payment rate in % (0: outside the BHYT list). */
  paymentRate: Decimal.Value;
}

export interface LineShare {
  key: string;
  unitPrice: string;
  quantity: string;
  /** unit price × quantity, whole đồng. */
  amount: string;
  /** Part of the amount in the BHYT scope (× payment rate). */
  inScope: string;
  /** The fund's share (T_BHTT). */
  bhyt: string;
  /** The patient's co-payment on the in-scope part (T_BNCCT). */
  copay: string;
  /** The patient's payment for what is outside the scope (T_BNTT). */
  outOfScope: string;
  /** copay + outOfScope. */
  patient: string;
  /** The benefit percent applied on this line (MUC_HUONG). */
  percent: string;
}

export interface Totals {
  amount: string;
  inScope: string;
  bhyt: string;
  copay: string;
  outOfScope: string;
  patient: string;
}

const dong = (d: Decimal): Decimal => d.toDecimalPlaces(0, Decimal.ROUND_HALF_UP);

function validAmount(v: Decimal.Value, what: string, key: string): Decimal {
  let d: Decimal;
  try {
    d = new Decimal(v);
  } catch {
    throw new RangeError(`${what} of ${key} is not a number`);
  }
  if (!d.isFinite() || d.isNegative()) {
    throw new RangeError(`${what} of ${key} must be a non-negative number`);
  }
  return d;
}

/**
 * Splits every line into fund, co-payment and outside-scope parts. With no benefit (no card, fee-paying visit) the
 * patient pays everything as outside scope.
 */
export function computeShares(
  lines: readonly LineInput[],
  ctx: ShareContext,
): { lines: LineShare[]; totals: Totals; percent: string; smallAmount: boolean } {
  const prepared = lines.map((l) => {
    const unit = validAmount(l.unitPrice, 'unit price', l.key);
    const qty = validAmount(l.quantity, 'quantity', l.key);
    const rate = validAmount(l.paymentRate, 'payment rate', l.key);
    if (rate.greaterThan(100)) {
      throw new RangeError(`payment rate of ${l.key} is above 100 %`);
    }
    const amount = dong(unit.times(qty));
    // a route that is not covered (0 %) leaves the whole line outside the scope, like an item off the BHYT list
    const covered = ctx.benefitLevel !== undefined && rate.greaterThan(0) && benefitPercent(ctx) > 0;
    const inScope = covered ? dong(amount.times(rate).div(100)) : new Decimal(0);
    return { l, unit, qty, amount, inScope };
  });
  let percent = new Decimal(benefitPercent(ctx));
  const inScopeTotal = prepared.reduce((s, p) => s.plus(p.inScope), new Decimal(0));
  const threshold = new Decimal(ctx.baseSalary ?? DEFAULT_BASE_SALARY).times(15).div(100);
  const smallAmount =
    ctx.benefitLevel !== undefined &&
    ctx.route !== 'wrong-route' &&
    inScopeTotal.greaterThan(0) &&
    inScopeTotal.lessThan(threshold);
  if (smallAmount) {
    percent = new Decimal(100);
  }
  const out: LineShare[] = prepared.map(({ l, unit, qty, amount, inScope }) => {
    const bhyt = dong(inScope.times(percent).div(100));
    const copay = inScope.minus(bhyt);
    const outOfScope = amount.minus(inScope);
    return {
      key: l.key,
      unitPrice: unit.toString(),
      quantity: qty.toString(),
      amount: amount.toFixed(0),
      inScope: inScope.toFixed(0),
      bhyt: bhyt.toFixed(0),
      copay: copay.toFixed(0),
      outOfScope: outOfScope.toFixed(0),
      patient: copay.plus(outOfScope).toFixed(0),
      percent: inScope.greaterThan(0) ? percent.toString() : '0',
    };
  });
  return { lines: out, totals: sumShares(out), percent: percent.toString(), smallAmount };
}

export function sumShares(lines: readonly Omit<LineShare, 'key' | 'unitPrice' | 'quantity' | 'percent'>[]): Totals {
  const sum = (k: keyof Totals): string => lines.reduce((s, l) => s.plus(l[k]), new Decimal(0)).toFixed(0);
  return {
    amount: sum('amount'),
    inScope: sum('inScope'),
    bhyt: sum('bhyt'),
    copay: sum('copay'),
    outOfScope: sum('outOfScope'),
    patient: sum('patient'),
  };
}
