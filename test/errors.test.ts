/** One coded base class under every layer's errors: callers can tell ours apart, and read `code` on any of them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtostackError } from '../src/errors.js';
import { PcapError } from '../src/link/pcap.js';
import { SocketError as StackSocketError, stackError } from '../src/stack/errors.js';
import { SocketError } from '../src/socket/errors.js';
import { DnsError } from '../src/wire/dns/errors.js';
import { HttpError } from '../src/wire/http/errors.js';

test('SocketError, DnsError, HttpError and PcapError share the coded base class and keep their names and messages', () => {
  const cases: [ProtostackError, string, string, string][] = [
    [new SocketError('ECONNREFUSED', { call: 'connect', fd: 4, address: '10.0.0.80:80' }), 'SocketError', 'ECONNREFUSED', 'connect(fd 4, 10.0.0.80:80): ECONNREFUSED (connection refused)'],
    [new DnsError('ERR_DNS_NXDOMAIN', 'example.test'), 'DnsError', 'ERR_DNS_NXDOMAIN', 'ERR_DNS_NXDOMAIN: example.test'],
    [new HttpError('ERR_HTTP_SOCKET', 'closed'), 'HttpError', 'ERR_HTTP_SOCKET', 'ERR_HTTP_SOCKET: closed'],
    [new PcapError('pcap: bad magic'), 'PcapError', 'ERR_PCAP_FORMAT', 'pcap: bad magic'],
  ];
  for (const [err, name, code, message] of cases) {
    assert.ok(err instanceof ProtostackError && err instanceof Error, name);
    assert.equal(err.name, name);
    assert.equal(err.code, code);
    assert.equal(err.message, message);
  }
});

test("a stack's context-free error is the socket library's SocketError, which adds the call's context", () => {
  assert.equal(StackSocketError, SocketError, 'one class, not two');
  const raised = stackError('EADDRINUSE');
  assert.ok(raised instanceof SocketError && raised instanceof ProtostackError);
  assert.equal(raised.message, 'EADDRINUSE (address already in use)');
  const told = raised.withContext({ call: 'bind', fd: 3, address: '127.0.0.1:80' });
  assert.equal(told.message, 'bind(fd 3, 127.0.0.1:80): EADDRINUSE (address already in use)');
  assert.equal(told.cause, raised);
});
