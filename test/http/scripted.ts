/**
 * Scripted HTTP peers for the client's tests: raw node:net servers that
 * answer (or misbehave) exactly as a test says, agents without proxies, and
 * a bound on how long a promise may stay pending. Everything is closed after
 * the file's tests.
 */
import { once } from 'node:events';
import net from 'node:net';
import { after } from 'node:test';
import { Agent } from '../../src/http/agent.js';

const agents: Agent[] = [];
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
after(async () => {
  for (const a of agents) await a.close();
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

/** An agent that ignores the environment's proxies, closed after the tests. */
export function agent(options: ConstructorParameters<typeof Agent>[0] = {}): Agent {
  const a = new Agent({ proxy: false, ...options });
  agents.push(a);
  return a;
}

/** A raw server on 127.0.0.1; `onRequest` runs for each chunk of request bytes, numbered per connection. Resolves with its URL. */
export async function rawServer(onRequest: (socket: net.Socket, index: number) => void): Promise<string> {
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let index = 0;
    socket.on('data', () => onRequest(socket, index++));
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
}

/** Settles like `p`, or rejects if `p` is still pending after `ms` (so a hang fails the test instead of stalling it). */
export function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const pending = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms)));
  return Promise.race([p, pending]).finally(() => clearTimeout(timer));
}
