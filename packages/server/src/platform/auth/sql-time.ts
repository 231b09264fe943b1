/** A timestamptz column selected as an ISO 8601 UTC string: the same on PostgreSQL and PGlite, whatever the zone. */
export function isoColumn(column: string, as = column.replace(/^\w+\./, '')): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${as}`;
}

export function isoPlus(at: Date, ms: number): string {
  return new Date(at.getTime() + ms).toISOString();
}
