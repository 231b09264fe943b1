import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readConfig } from './config.ts';
import { NationalIdClient } from './platform/oauth/national-id.ts';

describe('configuration of the national-ID sign-in', () => {
  it('is off without an issuer', () => {
    assert.equal(readConfig({}).nationalId, undefined);
  });

  it('reads issuer, client id, client secret and the claim (default sub)', () => {
    const env = {
      SEN_NATIONAL_ID_ISSUER: 'https://id.example.vn',
      SEN_NATIONAL_ID_CLIENT_ID: 'benh-vien-sen',
      SEN_NATIONAL_ID_CLIENT_SECRET: 's3cret',
    };
    assert.deepEqual(readConfig(env).nationalId, {
      issuer: 'https://id.example.vn',
      clientId: 'benh-vien-sen',
      clientSecret: 's3cret',
      claim: 'sub',
    });
    assert.equal(readConfig({ ...env, SEN_NATIONAL_ID_CLAIM: 'cccd' }).nationalId?.claim, 'cccd');
  });

  it('refuses an issuer without client credentials', () => {
    assert.throws(
      () => readConfig({ SEN_NATIONAL_ID_ISSUER: 'https://id.example.vn', SEN_NATIONAL_ID_CLIENT_ID: 'x' }),
      /SEN_NATIONAL_ID_CLIENT_SECRET/,
    );
  });
});

describe('the national-ID relying party', () => {
  const config = { issuer: 'http://127.0.0.1:9999', clientId: 'sen', clientSecret: 'x' };
  it('takes an http issuer only on 127.0.0.1 in demo mode, https otherwise', () => {
    assert.doesNotThrow(() => new NationalIdClient(config, 'http://127.0.0.1/cb', 'demo'));
    assert.throws(() => new NationalIdClient(config, 'http://127.0.0.1/cb', 'production'), /https/);
    assert.throws(
      () => new NationalIdClient({ ...config, issuer: 'http://id.example.vn' }, 'http://127.0.0.1/cb', 'demo'),
      /https/,
    );
    assert.doesNotThrow(
      () => new NationalIdClient({ ...config, issuer: 'https://id.example.vn' }, 'https://sen/cb', 'production'),
    );
  });
});
