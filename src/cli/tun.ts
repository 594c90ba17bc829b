/**
 * `--tun NAME --address A.B.C.D/LEN [--gateway A.B.C.D] [--mtu N] [--pcap FILE]
 * [--loss P] [--duplicate P] [--reorder P] [--corrupt P] [--delay MS] [--seed N]`,
 * shared by serve, dns-serve, get, resolve and demo: instead of the kernel's
 * stack, a UserStack on the wall clock attached to an existing TUN interface,
 * so Linux's TCP/IP is the peer. The interface is made by the administrator
 * beforehand (see README); protostack itself needs no privilege.
 *
 * The stack sees the device through the link layer's decorators, as on the
 * simulated link: UserStack → FaultyDevice (faults, on the wall clock with a
 * seeded Random) → PcapDevice (capture) → TunDevice. The capture sits next to
 * the interface, so it records what crossed it, as tcpdump on NAME would.
 */
import { PcapDevice } from '../link/capture.js';
import { FaultyDevice } from '../link/faults.js';
import { writePcapFile } from '../link/pcap-file-node.js';
import { PcapWriter } from '../link/pcap.js';
import { Random } from '../link/random.js';
import { TunError } from '../link/tun.js';
import { TunDevice } from '../link/tun-node.js';
import { DEFAULT_FAULTS, type Clock, type Device, type FaultParams } from '../link/types.js';
import { WallClock } from '../link/wall-clock.js';
import { UserStack } from '../stack/user/stack.js';
import { parseIPv4 } from '../wire/ip-address.js';
import { FlagError } from './limits.js';

export const TUN_OPTIONS = {
  tun: { type: 'string' },
  address: { type: 'string' },
  gateway: { type: 'string' },
  mtu: { type: 'string' },
  pcap: { type: 'string' },
  loss: { type: 'string' },
  duplicate: { type: 'string' },
  reorder: { type: 'string' },
  corrupt: { type: 'string' },
  delay: { type: 'string' },
  seed: { type: 'string' },
} as const;

/** The largest fault probability accepted: beyond it a connection spends its life retransmitting. */
const MAX_FAULT = 0.5;
/** How far a reordered packet is held back at most, ms: enough for the next several packets to overtake it. */
const REORDER_MS = 5;
const FAULT_FLAGS = ['loss', 'duplicate', 'reorder', 'corrupt', 'delay', 'seed'] as const;

export const TUN_USAGE = `On a TUN interface (protostack's own TCP/IP, with Linux as the peer):
  --tun NAME           attach to the existing TUN interface NAME (made with
                       ip tuntap add NAME mode tun user $USER; ip addr add 10.77.0.1/24 dev NAME;
                       ip link set NAME up)
  --address A.B.C.D/LEN  protostack's address on it (not Linux's), e.g. 10.77.0.2/24
  --gateway A.B.C.D    the next hop off the subnet (Linux's address on NAME); on a TUN every
                       packet goes to Linux anyway, so this is checked and recorded only
  --mtu N              largest packet sent, default 1500 (match ip link's mtu)
  --pcap FILE          write every packet through NAME to FILE (pcap, raw IPv4)
  --loss P, --duplicate P, --reorder P, --corrupt P
                       on protostack's side of NAME, lose, duplicate, reorder (hold back up to
                       ${REORDER_MS} ms) or corrupt each packet in and out with probability P (0-${MAX_FAULT})
  --delay MS           hold every packet in and out back MS ms (0-10000)
  --seed N             the faults' seed, 0-4294967295; default 1
`;

export interface TunFlags {
  name: string;
  address: string;
  prefixLength: number;
  gateway?: string;
  mtu: number;
  pcap?: string;
  /** Faults on protostack's side of the interface; all zero for none. */
  faults: FaultParams;
  seed: number;
}

type Values = { tun?: string; address?: string; gateway?: string; mtu?: string; pcap?: string } & { [K in (typeof FAULT_FLAGS)[number]]?: string };

/**
 * The TUN flags, or null without --tun. Throws FlagError on a bad value.
 * `own` names the flags the command also has for itself (demo's --loss on the simulated network).
 */
export function tunFlags(values: Values, own: readonly string[] = []): TunFlags | null {
  if (values.tun === undefined) {
    for (const flag of ['gateway', 'mtu', ...FAULT_FLAGS] as const) if (values[flag] !== undefined && !own.includes(flag)) throw new FlagError(`--${flag} needs --tun`);
    return null;
  }
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(values.address ?? '');
  if (!m || !parseIPv4(m[1]!) || Number(m[2]) > 32 || Number(m[2]) < 1) {
    throw new FlagError(values.address === undefined ? '--tun needs --address A.B.C.D/LEN (protostack\'s address on the interface)' : `--address must be A.B.C.D/LEN, not '${values.address}'`);
  }
  const flags: TunFlags = { name: values.tun, address: m[1]!, prefixLength: Number(m[2]), mtu: 1500, faults: { ...DEFAULT_FAULTS }, seed: 1 };
  for (const flag of ['loss', 'duplicate', 'reorder', 'corrupt'] as const) {
    const text = values[flag];
    if (text === undefined) continue;
    const p = Number(text);
    if (text.trim() === '' || !(p >= 0 && p <= MAX_FAULT)) throw new FlagError(`--${flag} wants a probability from 0 to ${MAX_FAULT}, not '${text}'`);
    flags.faults[flag] = p;
  }
  if (flags.faults.reorder > 0) flags.faults.reorderMs = REORDER_MS;
  if (values.delay !== undefined) {
    if (!/^\d{1,5}$/.test(values.delay) || Number(values.delay) > 10_000) throw new FlagError(`--delay wants whole milliseconds from 0 to 10000, not '${values.delay}'`);
    flags.faults.delayMs = Number(values.delay);
  }
  if (values.seed !== undefined) {
    if (!/^\d{1,10}$/.test(values.seed) || Number(values.seed) > 0xffff_ffff) throw new FlagError(`--seed wants a whole number from 0 to 4294967295, not '${values.seed}'`);
    flags.seed = Number(values.seed);
  }
  if (values.mtu !== undefined) {
    if (!/^\d{2,5}$/.test(values.mtu) || Number(values.mtu) < 68 || Number(values.mtu) > 65_535) throw new FlagError(`--mtu must be 68-65535, not '${values.mtu}'`);
    flags.mtu = Number(values.mtu);
  }
  if (values.gateway !== undefined) {
    const gw = parseIPv4(values.gateway);
    if (!gw) throw new FlagError(`--gateway must be an IPv4 address, not '${values.gateway}'`);
    if (!sameSubnet(gw, parseIPv4(flags.address)!, flags.prefixLength)) throw new FlagError(`--gateway ${values.gateway} is not on ${flags.address}/${flags.prefixLength}`);
    flags.gateway = values.gateway;
  }
  if (values.pcap !== undefined) flags.pcap = values.pcap;
  return flags;
}

function sameSubnet(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((a[bit >> 3]! & mask) !== (b[bit >> 3]! & mask)) return false;
  }
  return true;
}

export interface TunStack {
  stack: UserStack;
  device: TunDevice;
  /** The fault decorator, when any fault was asked for (its stats count what it did). */
  faulty: FaultyDevice | null;
  /** Detaches from the interface and writes the capture, if any. */
  close(): Promise<void>;
}

/** Attaches a UserStack to the interface. Rejects with the TunError naming the fix. */
export async function openTunStack(flags: TunFlags, name: string): Promise<TunStack> {
  const device = await TunDevice.open(flags.name, { mtu: flags.mtu });
  const clock = new WallClock();
  const capture = flags.pcap !== undefined ? new PcapWriter({ maxBytes: 512 * 1024 * 1024 }) : null;
  let seen: Device = capture ? new PcapDevice(device, epochClock(clock), capture) : device;
  const f = flags.faults;
  const faulty = f.loss > 0 || f.duplicate > 0 || f.reorder > 0 || f.corrupt > 0 || f.delayMs > 0 ? new FaultyDevice(seen, { clock, random: new Random(flags.seed), params: f }) : null;
  if (faulty) seen = faulty;
  const stack = new UserStack({ clock, interfaces: [{ device: seen, address: flags.address, prefixLength: flags.prefixLength }], name });
  device.onError = (e) => process.stderr.write(`protostack ${name}: ${e.message}\n`);
  return {
    stack,
    device,
    faulty,
    close: async () => {
      await device.close();
      if (capture && flags.pcap) writePcapFile(capture, flags.pcap);
    },
  };
}

/** The wall clock with now() in ms since 1970, as a capture file's timestamps are. */
function epochClock(clock: WallClock): Clock {
  const offset = performance.timeOrigin + performance.now() - clock.now();
  return { now: () => offset + clock.now(), setTimer: (ms, fire) => clock.setTimer(ms, fire), clearTimer: (h) => clock.clearTimer(h) };
}

/** A TunError as one line for the terminal. */
export function tunFailure(e: unknown): string | null {
  return e instanceof TunError ? `${e.message} [${e.code}]` : null;
}
