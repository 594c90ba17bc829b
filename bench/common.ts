/** What every benchmark module shares: the row it reports and small helpers. */

/** One measured figure: ours (protostack) beside the anchor (what a plain Node user gets). */
export interface Row {
  name: string;
  ours: number;
  anchor: number;
  unit: string;
  /** Ours relative to the anchor, 1 = parity, above 1 = ours better (ours/anchor, or anchor/ours when lower is better). */
  ratio: number;
}

/** A benchmark module: bench/run.ts runs each in turn. */
export interface BenchModule {
  run(): Promise<Row[]>;
}

/** A row from two medians; `lower` marks a figure where less is better (latency). */
export function row(name: string, ours: number, anchor: number, unit: string, lower = false): Row {
  return { name, ours, anchor, unit, ratio: lower ? anchor / ours : ours / anchor };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Collects garbage between runs when node was started with --expose-gc, so one run's garbage is not billed to the next. */
export function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Runs `ours` and `anchor` alternately: `warmups` unmeasured rounds (so the
 * JIT has compiled both paths), then `rounds` measured rounds, swapping which
 * side goes first every round. Returns each side's results in run order.
 */
export async function alternate<T>(rounds: number, ours: () => Promise<T>, anchor: () => Promise<T>, warmups = 2): Promise<{ ours: T[]; anchor: T[] }> {
  const out = { ours: [] as T[], anchor: [] as T[] };
  for (let i = -warmups; i < rounds; i++) {
    const order: ['ours' | 'anchor', () => Promise<T>][] = [['ours', ours], ['anchor', anchor]];
    if (i % 2) order.reverse();
    for (const [side, fn] of order) {
      collect();
      const result = await fn();
      if (i >= 0) out[side].push(result);
    }
  }
  return out;
}
