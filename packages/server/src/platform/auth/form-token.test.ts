import assert from 'node:assert/strict';
import { ServerResponse, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { appendSetCookie, FORM_COOKIE, formToken, formTokenValid, readCookie } from './form-token.ts';

function response(): ServerResponse {
  return new ServerResponse(new IncomingMessage(new Socket()));
}

describe('form tokens (double-submit CSRF check)', () => {
  it('issues a token in an HttpOnly SameSite=Strict cookie, and reuses the browser’s current one', () => {
    const res = response();
    const token = formToken(undefined, res, true);
    const cookie = String((res.getHeader('set-cookie') as string[])[0]);
    assert.match(cookie, new RegExp(`^${FORM_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Secure`));
    const again = response();
    assert.equal(formToken(`a=b; ${FORM_COOKIE}=${token}`, again, true), token);
    assert.equal(again.getHeader('set-cookie'), undefined);
  });

  it('accepts a form only when its field equals the cookie', () => {
    const token = formToken(undefined, response(), false);
    const header = `${FORM_COOKIE}=${token}`;
    assert.equal(formTokenValid(header, token), true);
    assert.equal(formTokenValid(header, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`), false);
    assert.equal(formTokenValid(header, undefined), false);
    assert.equal(formTokenValid(undefined, token), false);
    assert.equal(formTokenValid(`${FORM_COOKIE}=short`, 'short'), false);
  });

  it('keeps the Set-Cookie headers already on the response', () => {
    const res = response();
    res.setHeader('set-cookie', ['_interaction=1; path=/oidc']);
    appendSetCookie(res, 'sen_account=2; Path=/account');
    assert.deepEqual(res.getHeader('set-cookie'), ['_interaction=1; path=/oidc', 'sen_account=2; Path=/account']);
    assert.equal(readCookie('x=1; sen_account=abc', 'sen_account'), 'abc');
    assert.equal(readCookie('x=1', 'sen_account'), undefined);
  });
});
