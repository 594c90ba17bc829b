/** Trace events: one per call, with descriptor, arguments, result and wait; nothing when tracing is off. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TraceLog, type CallEvent } from '../../src/trace-events.js';
import { renderTimeline } from '../../src/trace/text.js';
import { bytes, dial, kernelLibrary, listenLoopback, LOOPBACK } from '../helpers.js';

test('each call records one event with its descriptor, arguments, result and wait', async () => {
  const log = new TraceLog();
  const lib = kernelLibrary('client', { trace: log });
  const { fd: listener, port } = await listenLoopback(lib);
  const fd = await dial(lib, port);
  const conn = await lib.accept(listener);
  await lib.write(fd, bytes('12345'));
  await lib.read(conn, new Uint8Array(100));
  await lib.connect(fd, LOOPBACK, port).catch(() => {});
  await lib.closeAll();
  const events = log.events as CallEvent[];
  const calls = events.map((e) => e.call);
  assert.deepEqual(calls, ['socket', 'bind', 'listen', 'socket', 'connect', 'accept', 'write', 'read', 'connect', 'close', 'close', 'close']);
  const byCall = (c: string) => events.find((e) => e.call === c)!;
  assert.deepEqual([byCall('bind').address, byCall('bind').port], [LOOPBACK, 0]);
  assert.equal(byCall('connect').port, port);
  assert.equal(byCall('write').result, 5);
  assert.equal(byCall('write').length, 5);
  assert.equal(byCall('read').result, 5);
  assert.equal(byCall('read').length, 100);
  assert.equal(byCall('accept').result, conn);
  assert.equal(events.filter((e) => e.call === 'connect')[1]!.error, 'EISCONN');
  for (const e of events) {
    assert.equal(e.who, 'client');
    assert.equal(e.stack, 'kernel');
    assert.ok(e.waited >= 0);
  }
  assert.ok(log.events.every((e, i) => i === 0 || e.seq > log.events[i - 1]!.seq), "seq keeps the order of recording");
});

test('the timeline shows each call as written, its result and its wait', async () => {
  const log = new TraceLog();
  const lib = kernelLibrary('server', { trace: log });
  const { fd } = await listenLoopback(lib);
  await lib.read(fd, new Uint8Array(4)).catch(() => {});
  await lib.close(fd);
  const lines = renderTimeline(log.events).trimEnd().split('\n');
  assert.equal(lines.length, 5);
  assert.match(lines[0]!, /^\s*\+0\.000 ms\s+server\s+socket\(tcp\)\s+= fd 3\s+waited \d+\.\d{3} ms$/);
  assert.match(lines[1]!, /bind\(fd 3, 127\.0\.0\.1:0\)\s+= ok/);
  assert.match(lines[2]!, /listen\(fd 3, backlog 128\)\s+= ok/);
  assert.match(lines[3]!, /read\(fd 3, 4 B\)\s+= ENOTCONN/);
  assert.match(lines[4]!, /close\(fd 3\)\s+= ok/);
});

test('with tracing off nothing is recorded; a bounded log counts what it drops', async () => {
  const log = new TraceLog(3);
  const lib = kernelLibrary('quiet');
  const fd = await lib.socket('udp');
  lib.setTrace(log);
  for (let i = 0; i < 5; i++) await lib.getsockopt(fd).then(() => lib.setsockopt(fd, {}));
  await lib.close(fd);
  assert.equal(log.events.length, 1, 'only close was traced; option calls are not socket I/O');
  lib.setTrace(null);
  await lib.socket('tcp');
  assert.equal(log.events.length, 1);
  lib.setTrace(log);
  for (let i = 0; i < 4; i++) await lib.socket('tcp');
  assert.equal(log.events.length, 3);
  assert.equal(log.dropped, 2);
  await lib.closeAll();
});
