/**
 * The pool's seam (src/http/session.ts): a pool given another session factory sends every
 * request through it and asks it, and only it, whether it may take one. Here the other
 * session is HTTP/1.1's own, wrapped to count what the pool asked, against a real server.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Resolver } from '../../src/dns/resolver.js';
import { http1Session } from '../../src/http/connection.js';
import { dial } from '../../src/http/dial.js';
import { FdIo } from '../../src/http/io.js';
import { Pool } from '../../src/http/pool.js';
import { serve, type HttpServer } from '../../src/http/server/index.js';
import type { Dispatch, RawResponse, Session, SessionFactory } from '../../src/http/session.js';
import { SocketLibrary } from '../../src/socket/library.js';
import { KernelStack } from '../../src/stack/kernel/stack.js';

let web: HttpServer;
before(async () => {
  web = await serve((req, res) => res.end(`you asked for ${req.url}`));
});
after(() => web.close());

function dispatch(target: string): { d: Dispatch; done: Promise<RawResponse> } {
  let resolve!: (r: RawResponse) => void;
  let reject!: (e: Error) => void;
  const done = new Promise<RawResponse>((res, rej) => ((resolve = res), (reject = rej)));
  const d: Dispatch = {
    method: 'GET', target, headers: [['Host', '127.0.0.1']], body: null, minor: 1, headersTimeout: 5000, bodyTimeout: 5000,
    signal: undefined, resolve, reject, retried: false, answered: false, sentAt: 0, writtenAt: 0,
  };
  return { d, done };
}

test('a pool opens, picks and sends through the session factory it is given', async () => {
  const lib = new SocketLibrary(new KernelStack(), { label: 'pool' });
  const resolver = new Resolver({ lib, resolvConf: false, hosts: false });
  const asked = { made: 0, canTake: 0, send: 0, destroyed: 0 };
  const counting: SessionFactory = (connected, options) => {
    asked.made++;
    const inner: Session = http1Session(connected, options);
    return {
      canTake: (d) => (asked.canTake++, inner.canTake(d)),
      send: (d) => (asked.send++, inner.send(d)),
      get idle() {
        return inner.idle;
      },
      get load() {
        return inner.load;
      },
      get completed() {
        return inner.completed;
      },
      destroy: (e) => (asked.destroyed++, inner.destroy(e)),
    };
  };
  const pool = new Pool({
    connect: async () => {
      const d = await dial(lib, resolver, '127.0.0.1', web.port, { timeout: 5000 });
      return { io: new FdIo(lib, d.fd), timings: { lookup: d.lookup, connect: d.connect, tls: 0 } };
    },
    connections: 1, pipelining: 1, keepAliveTimeout: 4000, keepAliveMaxTimeout: 60_000, maxQueue: 10, clock: lib.stack, session: counting,
  });
  try {
    const bodies: string[] = [];
    for (const path of ['/one', '/two', '/three']) {
      const { d, done } = dispatch(path);
      pool.dispatch(d);
      bodies.push(await (await done).body.text());
    }
    assert.deepEqual(bodies, ['you asked for /one', 'you asked for /two', 'you asked for /three']);
    assert.equal(asked.made, 1, 'one session carried all three, kept alive');
    assert.equal(asked.send, 3);
    assert.ok(asked.canTake >= 3, 'the pool asked the session before each send');
  } finally {
    await pool.close();
    await lib.closeAll();
  }
  assert.equal(asked.destroyed, 1, 'closing the pool destroys its sessions through the seam');
  assert.equal(pool.size, 0, 'and forgets the session it made, though the inner one reported the close');
});
