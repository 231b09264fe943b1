import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readConfig } from '../../config.ts';

describe('configuration of the MLLP listener for analyzers', () => {
  it('is off unless SEN_MLLP_PORT is set, and listens on 127.0.0.1 by default', () => {
    assert.equal(readConfig({}).mllp, undefined);
    assert.deepEqual(readConfig({ SEN_MLLP_PORT: '2575' }).mllp, {
      port: 2575,
      host: '127.0.0.1',
      facilityId: undefined,
    });
    assert.deepEqual(readConfig({ SEN_MLLP_PORT: '2575', SEN_MLLP_HOST: '0.0.0.0', SEN_MLLP_FACILITY: 'bv-1' }).mllp, {
      port: 2575,
      host: '0.0.0.0',
      facilityId: 'bv-1',
    });
  });

  it('refuses a port that is not one, and production without the facility', () => {
    assert.throws(() => readConfig({ SEN_MLLP_PORT: 'mllp' }), /SEN_MLLP_PORT must be a port number/);
    assert.throws(() => readConfig({ SEN_MLLP_PORT: '70000' }), /SEN_MLLP_PORT/);
    assert.throws(
      () => readConfig({ SEN_MODE: 'production', SEN_MLLP_PORT: '2575', SEN_SECRET_KEY: 'x' }),
      /SEN_MLLP_FACILITY/,
    );
  });
});
