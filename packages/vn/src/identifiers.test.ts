import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SEN_SID, VN_CORE_CANONICAL, VN_CORE_SID, VN_LEGACY_SID } from './identifiers.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const identifiersMd = join(repoRoot, '..', 'shared', 'data', 'vn', 'vn-core-ig', 'IDENTIFIERS.md');

describe('identifier systems', () => {
  it('VN Core systems live under the VN Core canonical', () => {
    for (const uri of Object.values(VN_CORE_SID)) {
      assert.ok(uri.startsWith(`${VN_CORE_CANONICAL}/sid/`), uri);
    }
    assert.equal(VN_CORE_SID.cccd, 'http://fhir.hl7.org.vn/core/sid/cccd');
    assert.equal(VN_CORE_SID.bhyt, 'http://fhir.hl7.org.vn/core/sid/bhyt');
  });

  it('all systems are distinct', () => {
    const all = [...Object.values(VN_CORE_SID), ...Object.values(VN_LEGACY_SID), ...Object.values(SEN_SID)];
    assert.equal(new Set(all).size, all.length);
  });

  it(
    'VN Core and legacy URIs match shared/data/vn/vn-core-ig/IDENTIFIERS.md',
    {
      skip: !existsSync(identifiersMd),
    },
    () => {
      const md = readFileSync(identifiersMd, 'utf8');
      for (const uri of [...Object.values(VN_CORE_SID), ...Object.values(VN_LEGACY_SID)]) {
        assert.ok(md.includes(`\`${uri}\``), `${uri} not in IDENTIFIERS.md`);
      }
    },
  );
});
