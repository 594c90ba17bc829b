/**
 * The order in which a full server closes connections to make room for a
 * new one, as nginx reuses its idle keep-alive connections when it runs out:
 * first the idle ones (nothing of a request received: closing them loses
 * nothing), the longest idle first; then the slow ones (a request begun and
 * not finished), the one that has taken longest first. Busy connections (a
 * request being answered) are never in the order.
 *
 * Two doubly-linked lists behind a Map: every operation is O(1),
 * whatever the churn (a Set's iteration order would do the same, but V8
 * skips the holes left by deletions at its front one by one).
 */

const IDLE = 0;
const SLOW = 1;
/** A node kept for a busy connection, so a keep-alive connection's every request allocates nothing. */
const BUSY = -1;

interface Node<K> {
  key: K;
  tier: number;
  prev: Node<K> | null;
  next: Node<K> | null;
}

interface List<K> {
  head: Node<K> | null;
  tail: Node<K> | null;
}

export class ShedOrder<K> {
  private readonly nodes = new Map<K, Node<K>>();
  private readonly lists: [List<K>, List<K>] = [
    { head: null, tail: null },
    { head: null, tail: null },
  ];
  private linked = 0;

  /** Connections that could be shed now. */
  get size(): number {
    return this.linked;
  }

  /** `key` waits with nothing of a request: it goes to the back of the idle ones (unless it is idle already). */
  idle(key: K): void {
    this.place(key, IDLE);
  }

  /** `key` has part of a request: it joins the slow ones, keeping its place if it was one already. */
  slow(key: K): void {
    this.place(key, SLOW);
  }

  /** `key` is busy: never shed. */
  busy(key: K): void {
    const node = this.nodes.get(key);
    if (node) this.unlink(node);
  }

  /** `key` is gone. */
  forget(key: K): void {
    const node = this.nodes.get(key);
    if (!node) return;
    this.unlink(node);
    this.nodes.delete(key);
  }

  /** Takes the connection to close out of the order: the longest idle, else the slowest; undefined if none. */
  pick(): K | undefined {
    const node = this.lists[IDLE].head ?? this.lists[SLOW].head;
    if (!node) return undefined;
    this.unlink(node);
    this.nodes.delete(node.key);
    return node.key;
  }

  private place(key: K, tier: number): void {
    let node = this.nodes.get(key);
    if (node) {
      if (node.tier === tier) return;
      this.unlink(node);
    } else {
      node = { key, tier, prev: null, next: null };
      this.nodes.set(key, node);
    }
    node.tier = tier;
    this.linked++;
    const list = this.lists[tier]!;
    node.prev = list.tail;
    node.next = null;
    if (list.tail) list.tail.next = node;
    else list.head = node;
    list.tail = node;
  }

  private unlink(node: Node<K>): void {
    if (node.tier === BUSY) return;
    this.linked--;
    const list = this.lists[node.tier]!;
    if (node.prev) node.prev.next = node.next;
    else list.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else list.tail = node.prev;
    node.prev = node.next = null;
    node.tier = BUSY;
  }
}
