// npm run gate:matrix — regenerates docs/access-matrix.md from the permission matrix.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadDefinitions } from '@sen/fhir';
import { renderAccessMatrix } from '../platform/gate/matrix-doc.ts';

loadDefinitions();
const out = fileURLToPath(new URL('../../../../docs/access-matrix.md', import.meta.url));
mkdirSync(fileURLToPath(new URL('../../../../docs/', import.meta.url)), { recursive: true });
writeFileSync(out, renderAccessMatrix());
process.stdout.write(`wrote ${out}\n`);
