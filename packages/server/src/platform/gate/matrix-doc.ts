import { matrixRows, RESOURCE_GROUPS, ROLE_MATRIX } from './matrix.ts';
import { STAFF_ROLE_CODES, STAFF_ROLE_LABELS } from './roles.ts';

/** The permission matrix as a Markdown document for review (docs/access-matrix.md is generated from it). */
export function renderAccessMatrix(): string {
  const lines: string[] = [];
  lines.push('# Sen access matrix (generated — do not edit; run `npm run gate:matrix`)');
  lines.push('');
  lines.push('Letters: c create, r read, u update/patch, d delete, s search. The gate narrows these further by');
  lines.push('facility, patient compartment, SMART scopes, consent and sensitivity labels; it never widens them.');
  lines.push('');
  lines.push('## By group');
  lines.push('');
  lines.push(`| group | ${STAFF_ROLE_CODES.map((r) => `${STAFF_ROLE_LABELS[r].vi} (${r})`).join(' | ')} |`);
  lines.push(`|---|${STAFF_ROLE_CODES.map(() => '---').join('|')}|`);
  for (const g of [...Object.keys(RESOURCE_GROUPS), 'other'] as (keyof typeof RESOURCE_GROUPS | 'other')[]) {
    lines.push(`| ${g} | ${STAFF_ROLE_CODES.map((r) => ROLE_MATRIX[r][g] || '–').join(' | ')} |`);
  }
  lines.push('');
  lines.push('## Every resource type');
  lines.push('');
  lines.push(`| type | group | ${STAFF_ROLE_CODES.join(' | ')} |`);
  lines.push(`|---|---|${STAFF_ROLE_CODES.map(() => '---').join('|')}|`);
  for (const row of matrixRows(STAFF_ROLE_CODES)) {
    lines.push(`| ${row.type} | ${row.group} | ${STAFF_ROLE_CODES.map((r) => row.cells[r] || '–').join(' | ')} |`);
  }
  lines.push('');
  return lines.join('\n');
}
