/**
 * What `protostack demo` and `get -v` print, read the way a user reads them:
 * arrows in the diagram drawn between the right sides and in the order the
 * bytes flowed, waits shown where they began and where they ended, and a
 * wait that a server's shutdown ended said as such, after the close that
 * ended it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { serve, type HttpServer } from '../../src/http/server/index.js';
import { cli } from './run.js';

const STACKS = [['--stack', 'kernel'], ['--stack', 'user']] as const;

for (const stack of STACKS) {
  test(`demo ${stack.join(' ')} --mermaid: the client closes its DNS socket on its own line; the data arrow comes before the server's FIN`, async () => {
    const r = await cli(['demo', ...stack, '--mermaid', ...((stack as readonly string[]).includes('user') ? ['--no-packets'] : [])]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').map((l) => l.trim());
    const udpClose = lines.findIndex((l) => /close\(fd 3\)/.test(l) && l.startsWith('client'));
    assert.equal(lines[udpClose], 'client->>client: close(fd 3)', 'the DNS socket is closed on the client line, not towards the web server');
    assert.ok(lines.findIndex((l) => /^client-->>dns_server: gethostbyname request/.test(l)) < udpClose);
    const data = lines.findIndex((l) => /^web_server->>client: read\(fd 3, buffer \d+ B\) → 232 B$/.test(l));
    const fin = lines.findIndex((l) => /^web_server-->>client: shutdown\(fd 4, write\)$/.test(l));
    const written = lines.findIndex((l) => /^Note over web_server: write\(fd 4, 232 B\)$/.test(l));
    assert.ok(written >= 0 && data > written && fin > data, `write, then the data, then the FIN: ${written} < ${data} < ${fin}`);
    assert.doesNotMatch(r.stdout, /✗ EBADF/, 'a wait ended by a shutdown is not drawn as a failure');
    const stopped = lines.findIndex((l) => /^Note over web_server: accept\(fd 3\) → stopped waiting: fd 3 was closed \(EBADF\)$/.test(l));
    const closed = lines.findIndex((l) => /^web_server->>web_server: close\(fd 3\)$/.test(l));
    assert.ok(closed >= 0 && stopped > closed, 'the listener stops waiting after it is closed');
  });

  test(`demo ${stack.join(' ')}: a wait ended by the server's shutdown shows where the close was, and the output says what it means`, async () => {
    const r = await cli(['demo', ...stack]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"stopped waiting: fd N was closed" is a server's accept or read that was still waiting when the server shut down/);
    assert.doesNotMatch(r.stdout, /closed while waiting/);
    const rows = r.stdout.split('\n').filter((l) => /^\s*\+\d/.test(l));
    const stops = rows.map((l, i) => [l, i] as const).filter(([l]) => /stopped waiting: fd \d+ was closed \(EBADF\)/.test(l));
    assert.ok(stops.length >= 3, 'the DNS server\'s two waits and the web server\'s accept');
    for (const [line, i] of stops) {
      const [, who, call, fd] = /\+[\d.]+ ms\s+(\S+)\s+… (\w+)\(fd (\d+)/.exec(line)!;
      const begin = rows.findIndex((l) => new RegExp(`\\s${who}\\s+${call}\\(fd ${fd}\\b.*… waits until`).test(l));
      const close = rows.findIndex((l) => new RegExp(`\\s${who}\\s+close\\(fd ${fd}\\)\\s+= ok`).test(l));
      assert.ok(begin >= 0 && begin < close && close < i, `${who} ${call}(fd ${fd}): begins (${begin}), the close (${close}), then the stop (${i})`);
    }
    assert.equal(r.stdout.includes('seed'), stack[1] === 'user', '"seed" appears only as the user stack\'s --seed');
  });
}

let web: HttpServer;
before(async () => {
  web = await serve((_req, res) => res.end('hello\n'));
});
after(() => web.close());

test('get -v: calls in the order they began, with the read that waited under the write shown where it began and where it returned', async () => {
  const r = await cli(['get', '-v', `http://127.0.0.1:${web.port}/`]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stderr.slice(r.stderr.indexOf('socket calls:')).split('\n').filter((l) => /^\s*\+\d/.test(l));
  const begins = rows.map((l) => Number(/\+([\d.]+) ms/.exec(l)![1]));
  const read = rows.findIndex((l) => /get\s+read\(fd 3, \d+ B\)\s+… waits until \+[\d.]+ ms$/.test(l));
  const write = rows.findIndex((l) => /get\s+write\(fd 3, \d+ B\)\s+= \d+ B/.test(l));
  const returned = rows.findIndex((l) => /get\s+… read\(fd 3, \d+ B\)\s+= \d+ B\s+waited/.test(l));
  assert.ok(read >= 0 && read < write && write < returned, `the read begins, the write, the read returns:\n${rows.join('\n')}`);
  assert.deepEqual(begins, [...begins].sort((a, b) => a - b), 'rows in time order');
  assert.equal(Number(/waits until \+([\d.]+) ms/.exec(rows[read]!)![1]), begins[returned], 'the first row says when the read returns');
});
