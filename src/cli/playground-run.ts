/**
 * What the playground page runs in the browser: `demo --stack user` with the
 * page's settings, rendered as the page shows it (the Mermaid diagram with
 * packets, the counts, the pcap). Portable on purpose: esbuild bundles this
 * file for the browser (scripts/build-playground.mjs), and the Node test runs
 * the same function, so a seed gives the same packets on both sides.
 */
import { renderPacketMermaid } from '../trace/mermaid-packets.js';
import { runUserDemo, userDemoCounts, type UserDemoCounts } from './demo-user.js';
import type { LinkParams } from '../link/types.js';

export interface PlaygroundSettings {
  loss: number;
  seed: number;
  objects: number;
  http: '1.0' | '1.1';
  /** One-way link latency in ms (the CLI's is 2). */
  latencyMs: number;
}

export interface PlaygroundRun {
  mermaid: string;
  counts: UserDemoCounts;
  pcap: Uint8Array;
  /** Virtual ms the flow took. */
  flowMs: number;
}

export async function runPlayground(s: PlaygroundSettings): Promise<PlaygroundRun> {
  const link: Partial<LinkParams> = { latencyMs: s.latencyMs };
  const r = await runUserDemo({ loss: s.loss, seed: s.seed, objects: s.objects, http: s.http, link });
  const notShown = r.packetBudget.notShown > 0 ? { packetsNotShown: r.packetBudget.notShown } : {};
  return { mermaid: renderPacketMermaid(r.trace.events, notShown), counts: userDemoCounts(r), pcap: r.capture.bytes(), flowMs: r.flowMs };
}
