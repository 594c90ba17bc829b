/** Master files (RFC 1035 §5) read into zones. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadZone } from '../../src/dns/zone-file.js';
import { TYPE } from '../../src/wire/dns/types.js';
import { HEAD, lines, rejects, zone } from './zone-helpers.js';

const FIXTURE = new URL('../../../test/fixtures/example.test.zone', import.meta.url).pathname;

// ---- reading master files ----

test('the fixture: origin, SOA, every record', async () => {
  const z = await loadZone(FIXTURE);
  assert.equal(z.origin, 'example.test');
  assert.deepEqual(z.soa.data, { mname: 'ns1.example.test', rname: 'hostmaster.example.test', serial: 2024010101, refresh: 7200, retry: 900, expire: 1209600, minimum: 300 });
  assert.equal(z.soa.ttl, 3600);
  assert.equal(z.size, 81);
  assert.equal(z.records.filter((r) => r.name === 'big.example.test').length, 60);
});

test('blank owners repeat the last one; TTL and class come in either order; TTL units', () => {
  const z = zone(`${HEAD}
www 300 IN A 192.0.2.80
    IN 1h30m AAAA 2001:DB8:0:0::80
    A 192.0.2.81
mail IN 2w1d3h4m5s A 192.0.2.25
`);
  assert.deepEqual(lines(z.records.slice(3)), [
    'www.example.test 300 1 192.0.2.80',
    'www.example.test 5400 28 2001:db8::80',
    // RFC 2308 §4: without a TTL of its own a record takes $TTL.
    'www.example.test 300 1 192.0.2.81',
    'mail.example.test 1307045 1 192.0.2.25',
  ]);
});

test('without $TTL a record takes the last TTL given, and an SOA without one takes its minimum', () => {
  const z = zone(`$ORIGIN example.test.
@ IN SOA ns1 hostmaster 1 2 3 4 60
  IN NS ns1
ns1 120 A 192.0.2.53
ns2 A 192.0.2.54
`);
  assert.deepEqual(z.records.map((r) => r.ttl), [60, 60, 120, 120]);
});

test('parentheses join lines; comments end at the end of the line, inside parentheses too', () => {
  const z = zone(`$ORIGIN example.test. ; a comment after a directive
$TTL 1d
@ IN SOA ( ns1.example.test.   ; primary
           hostmaster          ; mailbox
           2024 ; serial
           1h 15m 2w
           5m )
; a line that is only a comment

  NS ns1
ns1 A 192.0.2.53
txt TXT ( "one" ; not the end
          "two;three" )
`);
  assert.deepEqual(z.soa.data, { mname: 'ns1.example.test', rname: 'hostmaster.example.test', serial: 2024, refresh: 3600, retry: 900, expire: 1209600, minimum: 300 });
  assert.equal(z.soa.ttl, 86400);
  assert.deepEqual(z.records.find((r) => r.type === TYPE.TXT)!.data, ['one', 'two;three']);
  // The blank-owner NS after a comment line and a blank line still belongs to the apex.
  assert.equal(z.records.find((r) => r.type === TYPE.NS)!.name, 'example.test');
});

test('strings: quotes, escapes, several per record, unquoted words', () => {
  const z = zone(`${HEAD}
t1 TXT "say \\"hi\\"" "back\\\\slash" "\\065\\066C" word "" "caf\\195\\169"
t2 TXT semi\\;colon "a (paren)"
`);
  assert.deepEqual(z.records.find((r) => r.name === 't1.example.test')!.data, ['say "hi"', 'back\\slash', 'ABC', 'word', '', 'café']);
  assert.deepEqual(z.records.find((r) => r.name === 't2.example.test')!.data, ['semi;colon', 'a (paren)']);
});

test('names: relative, absolute, @, escapes, $ORIGIN absolute and relative', () => {
  const z = zone(`${HEAD}
abs.example.test. A 192.0.2.1
rel A 192.0.2.2
dot\\.ted A 192.0.2.3
@ MX 10 mail.example.net.
$ORIGIN sub.example.test.
@ A 192.0.2.4
host A 192.0.2.5
$ORIGIN deeper
host CNAME @
`);
  assert.deepEqual(
    z.records.slice(3).map((r) => `${r.name} ${JSON.stringify(r.data)}`),
    [
      'abs.example.test "192.0.2.1"',
      'rel.example.test "192.0.2.2"',
      'dot\\.ted.example.test "192.0.2.3"',
      'example.test {"preference":10,"exchange":"mail.example.net"}',
      'sub.example.test "192.0.2.4"',
      'host.sub.example.test "192.0.2.5"',
      'host.deeper.sub.example.test "deeper.sub.example.test"',
    ],
  );
});

test('the origin option stands in for $ORIGIN, and the SOA must be there', () => {
  const z = zone('@ 60 SOA ns1 hostmaster 1 2 3 4 5\n NS ns1\nns1 A 192.0.2.1\n', { origin: 'Example.TEST' });
  assert.equal(z.origin, 'Example.TEST');
  assert.equal(z.records[2]!.name, 'ns1.Example.TEST');
  rejects('$ORIGIN other.test.\n@ 60 SOA ns1 hostmaster 1 2 3 4 5\n', 2, /SOA is at other\.test, not at the origin example\.test/, { origin: 'example.test.' });
});

test('SOA, MX, SRV, PTR, CNAME and NS read into their fields', () => {
  const z = zone(`${HEAD}
@ MX 10 mail
_sip._tcp SRV 10 60 5060 sip.example.test.
1.2 PTR host
alias CNAME www
sub NS ns.elsewhere.test.
`);
  assert.deepEqual(lines(z.records.slice(3)), [
    'example.test 3600 15 {"preference":10,"exchange":"mail.example.test"}',
    '_sip._tcp.example.test 3600 33 {"priority":10,"weight":60,"port":5060,"target":"sip.example.test"}',
    '1.2.example.test 3600 12 host.example.test',
    'alias.example.test 3600 5 www.example.test',
    'sub.example.test 3600 2 ns.elsewhere.test',
  ]);
});

test('RFC 3597: a type without a form of its own in \\# LENGTH HEX', () => {
  const z = zone(`${HEAD}
x TYPE65280 \\# 3 abcd ef
y type65281 \\# 0
`);
  const [x, y] = z.records.slice(3);
  assert.deepEqual([x!.type, Array.from(x!.data as Uint8Array)], [65280, [0xab, 0xcd, 0xef]]);
  assert.deepEqual([y!.type, (y!.data as Uint8Array).length], [65281, 0]);
});

test('duplicates are one record, and an RRset has one TTL: the first (RFC 2181 §5)', () => {
  const z = zone(`${HEAD}
www 60 A 192.0.2.1
www 120 A 192.0.2.2
www 300 A 192.0.2.1
`);
  assert.deepEqual(lines(z.records.slice(3)), ['www.example.test 60 1 192.0.2.1', 'www.example.test 60 1 192.0.2.2']);
});

// ---- what a master file may not say; each error names the line ----

test('errors name the file and the line', () => {
  rejects(`${HEAD}www A 192.0.2.1\nwww TYPE13 "pc" "unix"\n`, 7, /TYPE13 is not supported in its usual form; write it as TYPE13 \\# LENGTH HEX/);
  rejects(`${HEAD}www HINFO "pc" "unix"\n`, 6, /unknown record type 'HINFO' \(.*TYPEnnn \\# LENGTH HEX\)/);
  rejects(`${HEAD}\n\nwww A 192.0.2.300\n`, 8, /'192\.0\.2\.300' is not an IPv4 address/);
  rejects(`${HEAD}www AAAA 192.0.2.1\n`, 6, /not an IPv6 address/);
  rejects(`${HEAD}$INCLUDE other.zone\n`, 6, /\$INCLUDE is not supported/);
  rejects(`${HEAD}$GENERATE 1-10 h$ A 10.0.0.$\n`, 6, /unknown directive \$GENERATE/);
  rejects(`${HEAD}www TXT ( "a"\n"b"\n`, 6, /'\(' is never closed/);
  rejects(`${HEAD}www A 192.0.2.1 )\n`, 6, /'\)' without '\('/);
  rejects(`${HEAD}www TXT "no end\n`, 6, /quoted string is not closed/);
  rejects(`${HEAD}www TXT "${'x'.repeat(256)}"\n`, 6, /256 bytes; each is at most 255/);
  rejects(`${HEAD}www 2147483648 A 192.0.2.1\n`, 6, /more than 2\^31-1/);
  rejects(`${HEAD}@ MX mail\n`, 6, /MX takes 2 fields, not 1/);
  rejects(`${HEAD}@ MX 65536 mail\n`, 6, /MX preference must be a number from 0 to 65535, not '65536'/);
  rejects(`${HEAD}${'a'.repeat(64)} A 192.0.2.1\n`, 6, /label over 63/);
  rejects(`${HEAD}a..b A 192.0.2.1\n`, 6, /empty label/);
  rejects(`${HEAD}www 60 IN 70 A 192.0.2.1\n`, 6, /'70' given twice/);
  rejects(`${HEAD}www 60 IN\n`, 6, /no record type/);
  rejects(`${HEAD}www A \\# 4 c0000201\n`, 6, /write A in its usual form/);
  rejects(`${HEAD}www TYPE65280 \\# 2 abcdef\n`, 6, /says 2 bytes but has 3/);
});

test('errors about names, TTLs and owners', () => {
  rejects('www 60 A 192.0.2.1\n', 1, /'www' is relative but there is no origin/);
  rejects('@ 60 A 192.0.2.1\n', 1, /'@' but no origin/);
  rejects('  60 A 192.0.2.1\n', 1, /no owner name/);
  rejects('$ORIGIN example.test.\nns1 A 192.0.2.1\n@ 60 SOA ns1 hostmaster 1 2 3 4 5\n', 2, /no TTL: give one, or set \$TTL/);
  rejects('$TTL 1fortnight\n', 1, /'1fortnight' is not a TTL/);
  rejects(`${HEAD}www CH A 192.0.2.1\n`, 6, /class 3 differs from the SOA's class 1/);
});
