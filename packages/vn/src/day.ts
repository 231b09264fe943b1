/** Vietnam keeps UTC+7 all year (no daylight saving). */
const VN_OFFSET_MS = 7 * 3600_000;

/**
 * The civil date in Vietnam, YYYY-MM-DD: the day a queue number, a card's validity or a prescription belongs to
 * (between 00:00 and 07:00 in Vietnam the UTC date is still yesterday).
 */
export function vietnamDay(now: Date = new Date()): string {
  return new Date(now.getTime() + VN_OFFSET_MS).toISOString().slice(0, 10);
}
