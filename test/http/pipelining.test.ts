/**
 * Client pipelining observed from the server's side of the wire: a raw server
 * counts the request heads in flight on its connection. Sequential keep-alive
 * gives the same answers as pipelining, so only the server can tell them apart.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, test } from 'node:test';
import { Agent } from '../../src/http/agent.js';
import { request } from '../../src/http/client.js';

const agents: Agent[] = [];
const servers: net.Server[] = [];
after(async () => {
  for (const a of agents) await a.close();
  for (const s of servers) s.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const head = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`;

interface Observed {
  connections: number;
  /** Heads received before the first response was complete: with its head sent, and with half its body sent. */
  beforeFirstHead: number;
  beforeFirstEnd: number;
  /** How many responses each later write carried (each answers every request then in flight). */
  batches: number[];
  /** The most request heads ever received and not yet answered. */
  maxInFlight: number;
}

/**
 * A server that answers the first request slowly (head, half the body, the rest, 100 ms apart) and
 * then holds every later request until `batch` are in flight (or `total` are all in), answering
 * them in one write 50 ms later. A client that does not pipeline never fills a batch; the server then gives up
 * after `patience` ms and answers what it has, so the test fails on the batch sizes, not on a hang.
 */
async function countingServer(batch: number, total: number, patience = 500): Promise<{ port: number; observed: Observed }> {
  const observed: Observed = { connections: 0, beforeFirstHead: 0, beforeFirstEnd: 0, batches: [], maxInFlight: 0 };
  const server = net.createServer((socket) => {
    observed.connections++;
    let buffered = '';
    const pending: string[] = [];
    let answered = 0;
    let first: 'waiting' | 'answering' | 'done' = 'waiting';
    let timer: NodeJS.Timeout | null = null;
    let settling = false;
    const answerPending = () => {
      if (timer) clearTimeout(timer);
      timer = null;
      settling = false;
      if (pending.length === 0) return;
      observed.batches.push(pending.length);
      answered += pending.length;
      socket.write(pending.splice(0).map((path) => head(path) + path).join(''));
    };
    const answerFirst = async () => {
      first = 'answering';
      const path = pending[0]!;
      await sleep(100);
      observed.beforeFirstHead = pending.length;
      socket.write(head(path) + path.slice(0, 1));
      await sleep(100);
      observed.beforeFirstEnd = pending.length;
      pending.shift();
      answered = 1;
      observed.batches.push(1);
      socket.write(path.slice(1));
      first = 'done';
      consider();
    };
    const consider = () => {
      if (first === 'waiting') void answerFirst();
      if (first !== 'done' || pending.length === 0) return;
      if (pending.length >= Math.min(batch, total - answered)) {
        // A full batch: answer it after a short pause, so a request beyond the limit would be seen in flight too.
        if (!settling) {
          if (timer) clearTimeout(timer);
          settling = true;
          timer = setTimeout(answerPending, 50);
        }
      } else timer ??= setTimeout(answerPending, patience);
    };
    const onRequest = (path: string) => {
      pending.push(path);
      observed.maxInFlight = Math.max(observed.maxInFlight, pending.length);
      consider();
    };
    socket.on('data', (data: Buffer) => {
      buffered += data.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const path = buffered.slice(0, end).split(' ')[1] ?? '?';
        buffered = buffered.slice(end + 4);
        onRequest(path);
      }
    });
    socket.on('error', () => {});
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, observed };
}

test('pipelining: after the first complete response, requests go out up to the limit without waiting for answers', async () => {
  const LIMIT = 4;
  const TOTAL = 9;
  const { port, observed } = await countingServer(LIMIT, TOTAL);
  const a = new Agent({ proxy: false, connections: 1, pipelining: LIMIT });
  agents.push(a);
  const paths = Array.from({ length: TOTAL }, (_, i) => `/r${i}`);
  const bodies = await Promise.all(
    paths.map((path) => request(`http://127.0.0.1:${port}${path}`, { agent: a, headersTimeout: 5000 }).then((r) => r.body.text())),
  );
  assert.deepEqual(bodies, paths, 'each request got its own answer');
  assert.equal(observed.connections, 1);
  assert.equal(observed.beforeFirstHead, 1, 'nothing was pipelined before the first response began');
  assert.equal(observed.beforeFirstEnd, 1, 'nothing was pipelined while the first response was still arriving');
  assert.deepEqual(observed.batches, [1, LIMIT, LIMIT], `${LIMIT} requests were in flight at once, twice`);
  assert.equal(observed.maxInFlight, LIMIT, 'never more than the pipelining limit in flight');
});

test('without pipelining (the default), one request at a time even when many wait', async () => {
  const { port, observed } = await countingServer(4, 5, 100);
  const a = new Agent({ proxy: false, connections: 1 });
  agents.push(a);
  const paths = Array.from({ length: 5 }, (_, i) => `/s${i}`);
  const bodies = await Promise.all(paths.map((path) => request(`http://127.0.0.1:${port}${path}`, { agent: a }).then((r) => r.body.text())));
  assert.deepEqual(bodies, paths);
  assert.equal(observed.maxInFlight, 1);
  assert.deepEqual(observed.batches, [1, 1, 1, 1, 1]);
});
