/** pcap capture of a simulated link: the file format, its bounds, and tshark's verdict on real IPv4/UDP/TCP packets. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Network } from '../../src/link/network.js';
import { LINKTYPE_RAW, parsePcap, PcapError, PcapWriter } from '../../src/link/pcap.js';
import { writePcapFile } from '../../src/link/pcap-file-node.js';
import { emitIpv4, PROTOCOL } from '../../src/wire/ipv4.js';
import { ACK, emitTcp, PSH, SYN } from '../../src/wire/tcp.js';
import { emitUdp } from '../../src/wire/udp.js';

const A = new Uint8Array([10, 0, 0, 1]);
const B = new Uint8Array([10, 0, 0, 2]);
const text = (s: string) => new TextEncoder().encode(s);

function ipv4(protocol: number, payload: Uint8Array, identification: number, src = A, dst = B): Uint8Array {
  return emitIpv4(
    { dscp: 0, ecn: 0, identification, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol, src, dst, options: new Uint8Array(0) },
    payload,
  );
}

/** A UDP datagram, a SYN with the options Linux sends, and a data segment: sent over a link at chosen virtual times. */
function capture(): { pcap: PcapWriter; packets: Uint8Array[] } {
  const net = new Network({ seed: 1 });
  const lan = net.link({ latencyMs: 1 });
  const pcap = new PcapWriter();
  lan.capture(pcap);
  const a = lan.attach('10.0.0.1');
  lan.attach('10.0.0.2');
  const packets = [
    ipv4(PROTOCOL.UDP, emitUdp({ srcPort: 50000, dstPort: 9, payload: text('hello') }, A, B), 1),
    ipv4(PROTOCOL.TCP, emitTcp({ srcPort: 40000, dstPort: 80, seq: 1000, ack: 0, flags: SYN, window: 65535, urgent: 0, options: { mss: 1460, sackPermitted: true, timestamp: { value: 1, echo: 0 }, windowScale: 7 }, payload: new Uint8Array(0) }, A, B), 2),
    ipv4(PROTOCOL.TCP, emitTcp({ srcPort: 40000, dstPort: 80, seq: 1001, ack: 5000, flags: ACK | PSH, window: 502, urgent: 0, options: { timestamp: { value: 2, echo: 7 } }, payload: text('GET / HTTP/1.1\r\nHost: example\r\n\r\n') }, A, B), 3),
  ];
  a.send(packets[0]!);
  net.clock.advance(2);
  a.send(packets[1]!);
  net.clock.advance(1232.5);
  a.send(packets[2]!);
  net.clock.advance(10);
  return { pcap, packets };
}

test('records carry the virtual send time and the bytes; the header is classic pcap, LINKTYPE_RAW', () => {
  const { pcap, packets } = capture();
  const bytes = pcap.bytes();
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(0, true), 0xa1b2c3d4);
  assert.deepEqual([view.getUint16(4, true), view.getUint16(6, true)], [2, 4]);
  assert.equal(view.getUint32(16, true), 65535);
  assert.equal(view.getUint32(20, true), 101);
  // Second record: sent at 2 ms, so ts_sec 0 and ts_usec 2000.
  const second = 24 + 16 + packets[0]!.length;
  assert.deepEqual([view.getUint32(second, true), view.getUint32(second + 4, true)], [0, 2000]);
  const file = parsePcap(bytes);
  assert.equal(file.linkType, LINKTYPE_RAW);
  assert.deepEqual(file.records.map((r) => r.timeMs), [0, 2, 1234.5]);
  assert.deepEqual(file.records.map((r) => r.data), packets);
  assert.deepEqual(file.records.map((r) => r.originalLength), packets.map((p) => p.length));
});

test('snaplen truncates but keeps the original length; maxBytes stops recording and counts drops', () => {
  const small = new PcapWriter({ snaplen: 40 });
  small.packet(1, new Uint8Array(100).fill(7));
  const [record] = parsePcap(small.bytes()).records;
  assert.equal(record!.data.length, 40);
  assert.equal(record!.originalLength, 100);

  const bounded = new PcapWriter({ maxBytes: 24 + 2 * (16 + 100) });
  for (let i = 0; i < 5; i++) bounded.packet(i, new Uint8Array(100));
  // A smaller packet that would fit is still not recorded: the capture stopped.
  bounded.packet(6, new Uint8Array(1));
  assert.equal(bounded.dropped, 4);
  assert.equal(bounded.bytes().length, 24 + 2 * 116);
  assert.equal(parsePcap(bounded.bytes()).records.length, 2);
});

test('parsePcap rejects bad input with PcapError (ERR_PCAP_FORMAT), never a crash', () => {
  const good = capture().pcap.bytes();
  const isFormatError = (error: unknown) => error instanceof PcapError && error.code === 'ERR_PCAP_FORMAT';
  assert.throws(() => parsePcap(good.subarray(0, 10)), isFormatError);
  assert.throws(() => parsePcap(good.subarray(0, good.length - 1)), isFormatError);
  assert.throws(() => parsePcap(good.subarray(0, 24 + 8)), isFormatError);
  const badMagic = good.slice();
  badMagic[0] = 0;
  assert.throws(() => parsePcap(badMagic), isFormatError);
  const hugeLength = good.slice();
  new DataView(hugeLength.buffer).setUint32(24 + 8, 0xffffffff, true);
  assert.throws(() => parsePcap(hugeLength), isFormatError);
  // Every truncation either parses or throws the typed error.
  for (let n = 0; n <= good.length; n++) {
    try {
      parsePcap(good.subarray(0, n));
    } catch (error) {
      assert.ok(isFormatError(error), `length ${n}: ${error}`);
    }
  }
});

test('same seed gives a byte-identical capture; another seed a different one', () => {
  function run(seed: number): Uint8Array {
    const net = new Network({ seed });
    const lan = net.link({ latencyMs: 0.3, bandwidthBps: 10_000_000, loss: 0.1, reorder: 0.3, reorderMs: 1 });
    const pcap = new PcapWriter();
    lan.capture(pcap);
    const a = lan.attach('10.0.0.1');
    const b = lan.attach('10.0.0.2');
    // b echoes, so the capture's times depend on the faults on the way there.
    b.receive = (bytes) => b.send(ipv4(PROTOCOL.UDP, emitUdp({ srcPort: 9, dstPort: 50000, payload: bytes.subarray(28) }, B, A), 0, B, A));
    for (let i = 0; i < 200; i++) net.clock.setTimer(i * 0.25, () => a.send(ipv4(PROTOCOL.UDP, emitUdp({ srcPort: 50000, dstPort: 9, payload: text(`n${i}`) }, A, B), i)));
    net.clock.advance(100);
    return pcap.bytes();
  }
  assert.deepEqual(run(3), run(3));
  assert.notDeepEqual(run(3), run(4));
});

test('tshark reads the capture: right frames, good checksums, nothing malformed', (t) => {
  const probe = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
  if (probe.error) {
    if (!process.env.CI) return t.skip('tshark not installed');
    throw probe.error;
  }
  const dir = mkdtempSync(join(tmpdir(), 'protostack-pcap-'));
  try {
    const { pcap, packets } = capture();
    const good = join(dir, 'good.pcap');
    writePcapFile(pcap, good);
    assert.deepEqual(new Uint8Array(readFileSync(good)), pcap.bytes());
    // The same packets with one payload bit flipped in the data segment: tshark must notice.
    const corrupt = new PcapWriter();
    for (const [i, p] of packets.entries()) corrupt.packet(i, i === 2 ? p.map((byte, at) => (at === p.length - 1 ? byte ^ 1 : byte)) : p);
    const bad = join(dir, 'bad.pcap');
    writePcapFile(corrupt, bad);

    const fields = ['frame.number', 'frame.time_relative', 'frame.len', 'ip.checksum.status', 'udp.checksum.status', 'tcp.checksum.status', 'tcp.options.mss_val', 'tcp.options.wscale.shift', '_ws.malformed', '_ws.expert.severity'];
    const tshark = (file: string) => {
      const args = ['-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=/t'];
      const result = spawnSync('tshark', [...args, ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      return result.stdout
        .trim()
        .split('\n')
        .map((line) => Object.fromEntries(line.split('\t').map((value, i) => [fields[i]!, value])));
    };

    const frames = tshark(good);
    assert.equal(frames.length, 3);
    assert.deepEqual(frames.map((f) => f['frame.len']), packets.map((p) => String(p.length)));
    assert.deepEqual(frames.map((f) => Number(f['frame.time_relative'])), [0, 0.002, 1.2345]);
    // Checksum status 1 is "Good" (0 bad, 2 unverified).
    assert.deepEqual(frames.map((f) => f['ip.checksum.status']), ['1', '1', '1']);
    assert.deepEqual(frames.map((f) => f['udp.checksum.status'] || f['tcp.checksum.status']), ['1', '1', '1']);
    assert.equal(frames[1]!['tcp.options.mss_val'], '1460');
    assert.equal(frames[1]!['tcp.options.wscale.shift'], '7');
    for (const frame of frames) {
      assert.equal(frame['_ws.malformed'], '', `frame ${frame['frame.number']} malformed`);
      // Expert levels: chat 0x200000 and note 0x400000 are fine; warning 0x600000 and error 0x800000 are not.
      for (const severity of (frame['_ws.expert.severity'] ?? '').split(',').filter(Boolean))
        assert.ok(Number(severity) < 0x600000, `frame ${frame['frame.number']} expert severity ${severity}`);
    }

    const corrupted = tshark(bad);
    assert.equal(corrupted[2]!['tcp.checksum.status'], '0');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
