/**
 * `--tun NAME --address A.B.C.D/LEN [--gateway A.B.C.D] [--mtu N] [--pcap FILE]`,
 * shared by serve, dns-serve, get, resolve and demo: instead of the kernel's
 * stack, a UserStack on the wall clock attached to an existing TUN interface,
 * so Linux's TCP/IP is the peer. The interface is made by the administrator
 * beforehand (see README); protostack itself needs no privilege.
 */
import { writePcapFile } from '../link/pcap-file-node.js';
import { PcapWriter } from '../link/pcap.js';
import { TunError } from '../link/tun.js';
import { TunDevice } from '../link/tun-node.js';
import type { Device } from '../link/types.js';
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
} as const;

export const TUN_USAGE = `On a TUN interface (protostack's own TCP/IP, with Linux as the peer):
  --tun NAME           attach to the existing TUN interface NAME (made with
                       ip tuntap add NAME mode tun user $USER; ip addr add 10.77.0.1/24 dev NAME;
                       ip link set NAME up)
  --address A.B.C.D/LEN  protostack's address on it (not Linux's), e.g. 10.77.0.2/24
  --gateway A.B.C.D    the next hop off the subnet (Linux's address on NAME); on a TUN every
                       packet goes to Linux anyway, so this is checked and recorded only
  --mtu N              largest packet sent, default 1500 (match ip link's mtu)
  --pcap FILE          write every packet through NAME to FILE (pcap, raw IPv4)
`;

export interface TunFlags {
  name: string;
  address: string;
  prefixLength: number;
  gateway?: string;
  mtu: number;
  pcap?: string;
}

type Values = { tun?: string; address?: string; gateway?: string; mtu?: string; pcap?: string };

/** The TUN flags, or null without --tun. Throws FlagError on a bad value. */
export function tunFlags(values: Values): TunFlags | null {
  if (values.tun === undefined) {
    for (const flag of ['gateway', 'mtu'] as const) if (values[flag] !== undefined) throw new FlagError(`--${flag} needs --tun`);
    return null;
  }
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(values.address ?? '');
  if (!m || !parseIPv4(m[1]!) || Number(m[2]) > 32 || Number(m[2]) < 1) {
    throw new FlagError(values.address === undefined ? '--tun needs --address A.B.C.D/LEN (protostack\'s address on the interface)' : `--address must be A.B.C.D/LEN, not '${values.address}'`);
  }
  const flags: TunFlags = { name: values.tun, address: m[1]!, prefixLength: Number(m[2]), mtu: 1500 };
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
  /** Detaches from the interface and writes the capture, if any. */
  close(): Promise<void>;
}

/** Attaches a UserStack to the interface. Rejects with the TunError naming the fix. */
export async function openTunStack(flags: TunFlags, name: string): Promise<TunStack> {
  const device = await TunDevice.open(flags.name, { mtu: flags.mtu });
  const clock = new WallClock();
  const capture = flags.pcap !== undefined ? new PcapWriter({ maxBytes: 512 * 1024 * 1024 }) : null;
  const seen: Device = capture ? captured(device, capture) : device;
  const stack = new UserStack({ clock, interfaces: [{ device: seen, address: flags.address, prefixLength: flags.prefixLength }], name });
  device.onError = (e) => process.stderr.write(`protostack ${name}: ${e.message}\n`);
  return {
    stack,
    device,
    close: async () => {
      await device.close();
      if (capture && flags.pcap) writePcapFile(capture, flags.pcap);
    },
  };
}

/**
 * The device with every packet in and out recorded, as tcpdump on the interface would see them.
 * (The link layer's capture decorator, when it lands, replaces this small one.)
 */
function captured(device: TunDevice, capture: PcapWriter): Device {
  const wrapper: Device = {
    mtu: device.mtu,
    send(packet) {
      capture.packet(performance.timeOrigin + performance.now(), packet);
      device.send(packet);
    },
    receive: null,
  };
  device.receive = (packet) => {
    capture.packet(performance.timeOrigin + performance.now(), packet);
    wrapper.receive?.(packet);
  };
  return wrapper;
}

/** A TunError as one line for the terminal. */
export function tunFailure(e: unknown): string | null {
  return e instanceof TunError ? `${e.message} [${e.code}]` : null;
}
