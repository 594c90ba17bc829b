/** RFC 6724 destination address selection, on the examples of its §10.2. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sortDestinations, type Candidate } from '../../src/dns/sort.js';

const order = (c: Candidate[]) => sortDestinations(c).map((x) => x.address);
const v6 = (address: string, source: string | null): Candidate => ({ address, family: 6, source });
const v4 = (address: string, source: string | null): Candidate => ({ address, family: 4, source });

test('rule 1: unreachable destinations go last', () => {
  assert.deepEqual(order([v6('2001:db8:1::1', null), v4('198.51.100.121', '192.0.2.1')]), ['198.51.100.121', '2001:db8:1::1']);
});

test('§10.2: prefer the matching scope (rule 2)', () => {
  assert.deepEqual(order([v6('2001:db8:1::1', '2001:db8:1::2'), v4('198.51.100.121', '169.254.13.78')]), ['2001:db8:1::1', '198.51.100.121']);
  assert.deepEqual(order([v6('2001:db8:1::1', 'fe80::1'), v4('198.51.100.121', '198.51.100.117')]), ['198.51.100.121', '2001:db8:1::1']);
});

test('§10.2: prefer higher precedence (rule 6): native IPv6 before IPv4 and before 6to4', () => {
  assert.deepEqual(order([v4('198.51.100.121', '198.51.100.117'), v6('2001:db8:1::1', '2001:db8:1::2')]), ['2001:db8:1::1', '198.51.100.121']);
  assert.deepEqual(order([v6('2002:c633:6401::1', '2002:c633:6401::2'), v6('2001:db8:1::1', '2001:db8:1::2')]), ['2001:db8:1::1', '2002:c633:6401::1']);
});

test('§10.2: prefer smaller scope (rule 8) and longest matching prefix (rule 9)', () => {
  assert.deepEqual(order([v6('2001:db8:1::1', '2001:db8:1::2'), v6('fe80::1', 'fe80::2')]), ['fe80::1', '2001:db8:1::1']);
  assert.deepEqual(order([v6('2001:db8:3ffe::1', '2001:db8:1::2'), v6('2001:db8:1::1', '2001:db8:1::2')]), ['2001:db8:1::1', '2001:db8:3ffe::1']);
});

test('loopback: ::1 (precedence 50) before 127.0.0.1; ties keep their order (rule 10)', () => {
  assert.deepEqual(order([v4('127.0.0.1', '127.0.0.1'), v6('::1', '::1')]), ['::1', '127.0.0.1']);
  assert.deepEqual(order([v4('192.0.2.1', '192.0.2.9'), v4('192.0.2.2', '192.0.2.9')]), ['192.0.2.1', '192.0.2.2']);
});
