import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostPort } from '../../src/wire/address.js';

test('hostPort brackets an IPv6 address so its colons are not the port (RFC 3986 §3.2.2)', () => {
  assert.equal(hostPort('10.0.0.1', 80), '10.0.0.1:80');
  assert.equal(hostPort('::1', 53), '[::1]:53');
  assert.equal(hostPort('fe80::1%eth0', 0), '[fe80::1%eth0]:0');
});
