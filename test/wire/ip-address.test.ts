import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIPv4, formatIPv6, ipFamily, parseIPv4, parseIPv6 } from '../../src/wire/ip-address.js';

test('IPv4 literals parse strictly, as inet_pton does', () => {
  assert.deepEqual([...parseIPv4('192.168.0.1')!], [192, 168, 0, 1]);
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1..2.3', ' 1.2.3.4', '1.2.3.4 ', 'a.b.c.d', ''])
    assert.equal(parseIPv4(bad), null, bad);
  assert.equal(formatIPv4(new Uint8Array([10, 0, 0, 80])), '10.0.0.80');
});

test('IPv6 literals parse and format per RFC 4291 and RFC 5952', () => {
  const cases: [string, string][] = [
    ['::1', '::1'],
    ['::', '::'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['2001:db8::', '2001:db8::'],
  ];
  for (const [input, formatted] of cases) assert.equal(formatIPv6(parseIPv6(input)!), formatted, input);
  for (const bad of ['1:2:3:4:5:6:7', '1::2::3', '12345::', 'g::1', ':1', '1:2:3:4:5:6:7:8:9', '::1.2.3'])
    assert.equal(parseIPv6(bad), null, bad);
});

test('ipFamily tells literals apart from names', () => {
  assert.equal(ipFamily('127.0.0.1'), 4);
  assert.equal(ipFamily('::1'), 6);
  assert.equal(ipFamily('localhost'), 0);
  assert.equal(ipFamily('www.example.test'), 0);
});
