/** resolv.conf, the hosts file and the search list, parsed as glibc reads them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG, parseResolvConf, parseServer } from '../../src/dns/config.js';
import { parseHosts } from '../../src/dns/hosts.js';
import { candidates, checkName } from '../../src/dns/names.js';
import { DnsError } from '../../src/wire/dns/errors.js';

test('resolv.conf: nameservers (at most 3), search, ndots, timeout, attempts, rotate', () => {
  const c = parseResolvConf(`
# comment
nameserver 10.0.0.1
nameserver ::1
nameserver fe80::1%eth0
nameserver 10.0.0.4   ; a fourth is ignored (MAXNS)
nameserver not-an-ip
domain ignored.example
search corp.example lab.example.
options ndots:2 timeout:3 attempts:4 rotate use-vc
`);
  assert.deepEqual(c.servers, [
    { address: '10.0.0.1', port: 53 },
    { address: '::1', port: 53 },
    { address: 'fe80::1', port: 53 },
  ]);
  assert.deepEqual(c.search, ['corp.example', 'lab.example'], 'the last search/domain line wins');
  assert.equal(c.ndots, 2);
  assert.equal(c.timeout, 3000);
  assert.equal(c.attempts, 4);
  assert.equal(c.rotate, true);
  assert.equal(c.tcp, true);
});

test('resolv.conf: limits and defaults as in glibc', () => {
  const c = parseResolvConf('options ndots:99 timeout:100 attempts:9 timeout:x\n');
  assert.equal(c.ndots, 15);
  assert.equal(c.timeout, 30_000);
  assert.equal(c.attempts, 5);
  assert.deepEqual(c.servers, DEFAULT_CONFIG.servers, 'no nameserver line means the local host');
  assert.deepEqual(parseResolvConf('').search, []);
});

test('server addresses with ports', () => {
  assert.deepEqual(parseServer('127.0.0.1:5353'), { address: '127.0.0.1', port: 5353 });
  assert.deepEqual(parseServer('[::1]:5353'), { address: '::1', port: 5353 });
  assert.deepEqual(parseServer('::1'), { address: '::1', port: 53 });
  assert.deepEqual(parseServer('192.0.2.1'), { address: '192.0.2.1', port: 53 });
  for (const bad of ['dns.example', '127.0.0.1:0', '127.0.0.1:70000', '[::1]:x'])
    assert.throws(() => parseServer(bad), (e: any) => e instanceof DnsError && e.code === 'ERR_DNS_BAD_CONFIG', bad);
});

test('hosts file: names and aliases, both families, comments, case-insensitive', () => {
  const h = parseHosts(`
127.0.0.1   localhost
::1         localhost ip6-localhost
192.0.2.7   Web.Example.test  web   # the web server
192.0.2.8   web.example.test
2001:db8::7 web.example.test
fe80::1%lo  linklocal
bogus       nothing
`);
  assert.deepEqual(h.lookup('web.example.test', 4), ['192.0.2.7', '192.0.2.8']);
  assert.deepEqual(h.lookup('WEB.EXAMPLE.TEST.', 6), ['2001:db8::7']);
  assert.deepEqual(h.lookup('web', 4), ['192.0.2.7']);
  assert.deepEqual(h.lookup('ip6-localhost', 4), []);
  assert.equal(h.has('linklocal'), false);
  assert.equal(h.has('nothing'), false);
});

test('search list: ndots decides whether the name is tried as given first', () => {
  assert.deepEqual(candidates('www', ['a.test', 'b.test'], 1), ['www.a.test', 'www.b.test', 'www']);
  assert.deepEqual(candidates('www.x', ['a.test'], 1), ['www.x', 'www.x.a.test']);
  assert.deepEqual(candidates('www.x', ['a.test'], 2), ['www.x.a.test', 'www.x']);
  assert.deepEqual(candidates('www.x.', ['a.test'], 5), ['www.x'], 'a trailing dot means absolute');
});

test('names a stub refuses to send', () => {
  for (const bad of ['', '.', 'a..b', 'x'.repeat(64) + '.test', `${'a.'.repeat(127)}bc`, 'has space.test', 'ctl\x01.test'])
    assert.throws(() => checkName(bad), (e: any) => e instanceof DnsError && e.code === 'ERR_DNS_BAD_NAME', JSON.stringify(bad));
  checkName('www.example.test');
  checkName('www.example.test.');
  checkName('_sip._udp.example.test');
});
