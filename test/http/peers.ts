/** Real HTTP peers for the tests: nginx on a loopback port with a scratch config, and Python's http.server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../dns/peers.js';

const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

export interface Peer {
  port: number;
  root: string;
  stop(): void;
}

async function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  const net = await import('node:net');
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not start listening on ${port}`);
}

/** nginx serving `files` from a temp root, with redirects, a chunked location and the connection number in X-Conn. */
export async function startNginx(files: Record<string, string | Buffer>): Promise<Peer> {
  const prefix = mkdtempSync(join(tmpdir(), 'nginx-'));
  const root = join(prefix, 'www');
  mkdirSync(root);
  mkdirSync(join(prefix, 'logs'));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(root, name), data);
  const port = await freePort();
  const conf = `
daemon off;
master_process off;
worker_processes 1;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  default_type text/plain;
  keepalive_timeout 30s 30;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    add_header X-Conn $connection always;
    location = /r301 { return 301 /hello.txt; }
    location = /r302 { return 302 /hello.txt; }
    location = /r303 { return 303 /hello.txt; }
    location = /r307 { return 307 /echo-method; }
    location = /r308 { return 308 /echo-method; }
    location = /loop { return 302 /loop; }
    location = /echo-method { return 200 "$request_method $content_length\\n"; }
    location = /close { keepalive_timeout 0; return 200 "bye\\n"; }
    location /chunked/ { sub_filter 'hello' 'HELLO'; sub_filter_once off; sub_filter_types text/plain; }
  }
}
`;
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  mkdirSync(join(root, 'chunked'));
  writeFileSync(join(root, 'chunked', 'text.txt'), 'hello '.repeat(5000));
  const child = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('error', (e) => {
    stderr += `nginx could not start (is the Debian package nginx installed?): ${e.message}`;
  });
  try {
    await waitForPort(port, child, `nginx (${stderr})`);
  } catch (e) {
    child.kill();
    throw new Error(`${(e as Error).message} ${stderr}`);
  }
  return { port, root, stop: () => child.kill() };
}

/** Python's http.server: HTTP/1.0, one connection per request, closed by the server. */
export async function startPythonHttp(files: Record<string, string>): Promise<Peer> {
  const root = mkdtempSync(join(tmpdir(), 'pyhttp-'));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(root, name), data);
  const port = await freePort();
  const child = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', root], { stdio: 'ignore' });
  await waitForPort(port, child, 'python3 -m http.server');
  return { port, root, stop: () => child.kill() };
}
