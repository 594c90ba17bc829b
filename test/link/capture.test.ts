/** Capture as a decorator around a bare device: both directions, stamped by the clock, as pcap. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PcapDevice } from '../../src/link/capture.js';
import { VirtualClock } from '../../src/link/clock.js';
import { parsePcap, PcapWriter } from '../../src/link/pcap.js';
import type { Device } from '../../src/link/types.js';

class BareDevice implements Device {
  readonly mtu = 1280;
  receive: ((packet: Uint8Array) => void) | null = null;
  readonly sent: Uint8Array[] = [];
  send(packet: Uint8Array): void {
    this.sent.push(packet);
  }
}

test('a PcapDevice records what is sent and received through it, and passes both on unchanged', () => {
  const clock = new VirtualClock();
  const bare = new BareDevice();
  const pcap = new PcapWriter();
  const dev = new PcapDevice(bare, clock, pcap);
  const got: Uint8Array[] = [];
  dev.receive = (p) => got.push(p);
  assert.equal(dev.mtu, 1280);
  dev.send(new Uint8Array([1, 2, 3]));
  clock.advance(2.5);
  bare.receive!(new Uint8Array([4, 5]));
  assert.deepEqual(bare.sent, [new Uint8Array([1, 2, 3])]);
  assert.deepEqual(got, [new Uint8Array([4, 5])]);
  const file = parsePcap(pcap.bytes());
  assert.deepEqual(file.records.map((r) => [r.timeMs, [...r.data]]), [[0, [1, 2, 3]], [2.5, [4, 5]]]);
});

test('one direction only, when asked', () => {
  const clock = new VirtualClock();
  const bare = new BareDevice();
  const seen: number[] = [];
  const dev = new PcapDevice(bare, clock, { packet: (_t, b) => seen.push(b[0]!) }, 'receive');
  let got = 0;
  dev.receive = () => got++;
  dev.send(new Uint8Array([1]));
  bare.receive!(new Uint8Array([2]));
  assert.deepEqual(seen, [2]);
  assert.equal(got, 1);
  assert.equal(bare.sent.length, 1);
});
