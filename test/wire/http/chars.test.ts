/** The character classes every HTTP/1.x writer and the parser share. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFieldValue, isToken } from '../../../src/wire/http/chars.js';

test('a token is one or more tchar (RFC 9110 §5.6.2), nothing else', () => {
  assert.equal(isToken("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"), true);
  for (const bad of ['', 'a b', 'a:b', 'a\r\nb', 'a\tb', 'a"b', 'a(b', 'a/b', 'é', '\u2028']) assert.equal(isToken(bad), false, JSON.stringify(bad));
  assert.equal(isToken(42 as unknown as string), false, 'not a string');
});

test('a field value is field-vchar, SP, HTAB and obs-text, possibly empty; never CR, LF, NUL or DEL', () => {
  let all = '\t';
  for (let c = 0x20; c <= 0xff; c++) if (c !== 0x7f) all += String.fromCharCode(c);
  assert.equal(isFieldValue(all), true);
  assert.equal(isFieldValue(''), true);
  for (const bad of ['a\rb', 'a\nb', 'a\0b', 'a\x7fb', '€', '\u2028']) assert.equal(isFieldValue(bad), false, JSON.stringify(bad));
});
