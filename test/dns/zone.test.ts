/** The answers a zone gives (RFC 1034 §4.3.2), and what makes a set of records a zone. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Zone } from '../../src/dns/zone.js';
import { RCODE, TYPE } from '../../src/wire/dns/types.js';
import { HEAD, lines, rejects, zone } from './zone-helpers.js';

test('errors about the zone as a whole', () => {
  rejects('$ORIGIN example.test.\n$TTL 60\nns1 A 192.0.2.1\n', null, /the zone has no SOA record/);
  rejects(`${HEAD}\nsub SOA ns1 hostmaster 1 2 3 4 5\n`, 7, /a second SOA record/);
  rejects(`${HEAD}other.test. A 192.0.2.1\n`, 6, /other\.test is outside the zone example\.test/);
  rejects(`${HEAD}alias CNAME www\nalias A 192.0.2.1\n`, 6, /alias\.example\.test has a CNAME and other records/);
  rejects(`${HEAD}alias CNAME www\nalias CNAME mail\n`, 6, /alias\.example\.test has more than one CNAME/);
  rejects('$ORIGIN example.test.\n$TTL 60\n@ SOA ns1 hostmaster 1 2 3 4 5\n', 3, /no NS records at its apex/);
});

// ---- lookups ----

const LOOKUP = zone(`$ORIGIN example.test.
$TTL 3600
@ SOA ns1 hostmaster 1 7200 900 1209600 300
  NS ns1
  NS ns.sub
  MX 10 mail
  MX 20 mail.example.net.
ns1 A 192.0.2.53
    AAAA 2001:db8::53
www 300 A 192.0.2.80
mail A 192.0.2.25
alias CNAME www
alias2 CNAME alias
away CNAME www.example.net.
dangling CNAME nowhere
loop1 CNAME loop2
loop2 CNAME loop1
_sip._tcp SRV 0 5 5060 www
deep.a.b A 192.0.2.99
sub NS ns.sub
ns.sub A 192.0.2.100
below.sub A 192.0.2.101
into-sub CNAME host.sub
mx-below MX 10 below.sub
*.wild A 192.0.2.42
host.wild A 192.0.2.43
`);

function ask(name: string, type: number, z: Zone = LOOKUP) {
  const r = z.lookup(name, type);
  return { rcode: r.rcode, aa: r.authoritative, answers: lines(r.answers), authorities: lines(r.authorities), additionals: lines(r.additionals) };
}

const NEGATIVE_SOA = 'example.test 300 SOA {"mname":"ns1.example.test","rname":"hostmaster.example.test","serial":1,"refresh":7200,"retry":900,"expire":1209600,"minimum":300}';

test('an exact match is answered authoritatively, with the owner spelt as asked', () => {
  assert.deepEqual(ask('www.example.test', TYPE.A), { rcode: RCODE.NOERROR, aa: true, answers: ['www.example.test 300 1 192.0.2.80'], authorities: [], additionals: [] });
  assert.deepEqual(ask('WWW.Example.TEST', TYPE.A).answers, ['WWW.Example.TEST 300 1 192.0.2.80']);
});

test('NODATA: NOERROR, no answer, the SOA in authority with TTL min(SOA TTL, minimum) (RFC 2308)', () => {
  assert.deepEqual(ask('www.example.test', TYPE.MX), { rcode: RCODE.NOERROR, aa: true, answers: [], authorities: [NEGATIVE_SOA], additionals: [] });
  const short = zone('$ORIGIN example.test.\n@ 60 SOA ns1 hostmaster 1 2 3 4 300\n 60 NS ns1\n');
  assert.equal(short.lookup('example.test', TYPE.A).authorities[0]!.ttl, 60);
});

test('NXDOMAIN: the SOA in authority', () => {
  assert.deepEqual(ask('nope.example.test', TYPE.A), { rcode: RCODE.NXDOMAIN, aa: true, answers: [], authorities: [NEGATIVE_SOA], additionals: [] });
  assert.equal(ask('x.www.example.test', TYPE.A).rcode, RCODE.NXDOMAIN);
});

test('an empty non-terminal is NODATA, not NXDOMAIN', () => {
  for (const name of ['a.b.example.test', 'b.example.test']) {
    assert.deepEqual(ask(name, TYPE.A), { rcode: RCODE.NOERROR, aa: true, answers: [], authorities: [NEGATIVE_SOA], additionals: [] });
  }
  assert.equal(ask('c.b.example.test', TYPE.A).rcode, RCODE.NXDOMAIN);
});

test('CNAME: answered, then followed inside the zone', () => {
  assert.deepEqual(ask('alias2.example.test', TYPE.A).answers, [
    'alias2.example.test 3600 5 alias.example.test',
    'alias.example.test 3600 5 www.example.test',
    'www.example.test 300 1 192.0.2.80',
  ]);
  // Asked for the CNAME itself: no chasing.
  assert.deepEqual(ask('alias.example.test', TYPE.CNAME).answers, ['alias.example.test 3600 5 www.example.test']);
  // Leaving the zone: the resolver carries on from the CNAME.
  assert.deepEqual(ask('away.example.test', TYPE.A), { rcode: RCODE.NOERROR, aa: true, answers: ['away.example.test 3600 5 www.example.net'], authorities: [], additionals: [] });
  // The target does not exist: the RCODE is the last name's (RFC 6604).
  assert.deepEqual(ask('dangling.example.test', TYPE.A), { rcode: RCODE.NXDOMAIN, aa: true, answers: ['dangling.example.test 3600 5 nowhere.example.test'], authorities: [NEGATIVE_SOA], additionals: [] });
  // The target has no such type: NODATA after the CNAME.
  assert.deepEqual(ask('alias.example.test', TYPE.TXT).authorities, [NEGATIVE_SOA]);
});

test('a CNAME loop ends', () => {
  assert.deepEqual(ask('loop1.example.test', TYPE.A).answers, ['loop1.example.test 3600 5 loop2.example.test', 'loop2.example.test 3600 5 loop1.example.test']);
});

test('below a delegation: a referral, AA off, NS in authority, glue in additional', () => {
  const referral = { rcode: RCODE.NOERROR, aa: false, answers: [], authorities: ['sub.example.test 3600 2 ns.sub.example.test'], additionals: ['ns.sub.example.test 3600 1 192.0.2.100'] };
  assert.deepEqual(ask('host.sub.example.test', TYPE.A), referral);
  assert.deepEqual(ask('below.sub.example.test', TYPE.A), referral, 'data below the cut is not ours to answer');
  assert.deepEqual(ask('sub.example.test', TYPE.NS), referral, 'the child is authoritative for its own NS');
  assert.deepEqual(ask('sub.example.test', TYPE.A), referral);
});

test('a CNAME into a delegation: the CNAME answered, then the referral', () => {
  assert.deepEqual(ask('into-sub.example.test', TYPE.A), {
    rcode: RCODE.NOERROR,
    aa: true,
    answers: ['into-sub.example.test 3600 5 host.sub.example.test'],
    authorities: ['sub.example.test 3600 2 ns.sub.example.test'],
    additionals: ['ns.sub.example.test 3600 1 192.0.2.100'],
  });
});

test('MX, SRV and NS answers bring the addresses of their in-zone targets', () => {
  assert.deepEqual(ask('example.test', TYPE.MX).additionals, ['mail.example.test 3600 1 192.0.2.25']);
  assert.deepEqual(ask('_sip._tcp.example.test', TYPE.SRV).additionals, ['www.example.test 300 1 192.0.2.80']);
  assert.deepEqual(ask('example.test', TYPE.NS).additionals, ['ns1.example.test 3600 1 192.0.2.53', 'ns1.example.test 3600 28 2001:db8::53', 'ns.sub.example.test 3600 1 192.0.2.100']);
  // A target below a delegation is glue, not an answer we vouch for.
  assert.deepEqual(ask('mx-below.example.test', TYPE.MX).additionals, []);
});

test('ANY answers every RRset at the name', () => {
  const types = LOOKUP.lookup('example.test', TYPE.ANY).answers.map((r) => r.type);
  assert.deepEqual(types, [TYPE.SOA, TYPE.NS, TYPE.NS, TYPE.MX, TYPE.MX]);
  assert.equal(ask('nope.example.test', TYPE.ANY).rcode, RCODE.NXDOMAIN);
});

test('wildcards (RFC 4592): synthesised under the owner asked, never over a name that exists', () => {
  assert.deepEqual(ask('anything.wild.example.test', TYPE.A).answers, ['anything.wild.example.test 3600 1 192.0.2.42']);
  assert.deepEqual(ask('two.labels.wild.example.test', TYPE.A).answers, ['two.labels.wild.example.test 3600 1 192.0.2.42']);
  assert.deepEqual(ask('host.wild.example.test', TYPE.A).answers, ['host.wild.example.test 3600 1 192.0.2.43']);
  assert.deepEqual(ask('anything.wild.example.test', TYPE.TXT), { rcode: RCODE.NOERROR, aa: true, answers: [], authorities: [NEGATIVE_SOA], additionals: [] });
  // The closest encloser is host.wild, which has no wildcard of its own.
  assert.equal(ask('x.host.wild.example.test', TYPE.A).rcode, RCODE.NXDOMAIN);
  assert.equal(ask('wild.example.test', TYPE.A).rcode, RCODE.NOERROR, 'wild.example.test is an empty non-terminal');
});

test('a name outside the zone is refused', () => {
  assert.deepEqual(ask('example.org', TYPE.A), { rcode: RCODE.REFUSED, aa: false, answers: [], authorities: [], additionals: [] });
  assert.equal(ask('test', TYPE.A).rcode, RCODE.REFUSED);
});
