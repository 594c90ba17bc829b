/** The Python forms of `%{ }%` blocks: assert, print, assignment, formatting; anything else is named, not guessed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionFailed, runPython, Unsupported, type PyValue, type Scope } from '../../src/packetdrill/python.js';

function scope(fields: Record<string, PyValue> = {}): Scope & { printed: string[] } {
  const printed: string[] = [];
  return {
    vars: new Map(),
    lookup: (name) => fields[name],
    print: (line) => printed.push(line),
    printed,
  };
}

test('assert with a message, statements on one line split by ;, across lines joined by \\, # comments', () => {
  const s = scope({ tcpi_snd_cwnd: 10, tcpi_probes: 0, tcpi_backoff: 0 });
  runPython(' assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd ', s);
  runPython('assert tcpi_probes == 0, tcpi_probes; \\\n   assert tcpi_backoff == 0, tcpi_backoff  # both zero', s);
  runPython('\nassert tcpi_snd_cwnd >= 10 and not tcpi_snd_cwnd > 10\nassert (tcpi_snd_cwnd - 2) * 2 // 3 == 5\n', s);
});

test('variables persist from block to block: x = …, x += …, hex literals', () => {
  const s = scope({ tcpi_snd_cwnd: 59, tcpi_snd_ssthresh: 0x7fffffff });
  runPython('TCP_INFINITE_SSTHRESH = 0x7fffffff', s);
  runPython('assert tcpi_snd_ssthresh == TCP_INFINITE_SSTHRESH, tcpi_snd_ssthresh', s);
  runPython('print(tcpi_snd_cwnd); cwnd = 58', s);
  runPython('cwnd += 1; assert tcpi_snd_cwnd == cwnd, tcpi_snd_cwnd', s);
  assert.deepEqual(s.printed, ['59']);
  assert.equal(s.vars.get('cwnd'), 59);
});

test('a failing assert: the source, the message (formatted with %) and the values it read', () => {
  const s = scope({ tcpi_snd_cwnd: 12, tcpi_ca_state: 3, tcpi_rtt: 1000 });
  try {
    runPython("assert tcpi_snd_cwnd == 10, 'cwnd=%d' % tcpi_snd_cwnd", s);
    assert.fail('the assert held');
  } catch (e) {
    assert.ok(e instanceof AssertionFailed);
    assert.equal(e.source, 'tcpi_snd_cwnd == 10');
    assert.equal(e.detail, 'cwnd=12');
    assert.deepEqual(e.values, [['tcpi_snd_cwnd', 12]]);
  }
  assert.throws(() => runPython("assert tcpi_ca_state == 4, 'state %d rtt %d' % (tcpi_ca_state, tcpi_rtt)", s), (e: unknown) => e instanceof AssertionFailed && e.detail === 'state 3 rtt 1000');
});

test('a message that names a field the stack lacks does not hide the failed assertion', () => {
  const s = scope({ tcpi_ca_state: 3 });
  assert.throws(
    () => runPython("assert tcpi_ca_state == 1, 'min_rtt: %d' % (tcpi_min_rtt)", s),
    (e: unknown) => e instanceof AssertionFailed && e.detail === "'min_rtt: %d' % (tcpi_min_rtt)",
  );
});

test('unknown names and forms are Unsupported, naming them', () => {
  const s = scope({ tcpi_snd_cwnd: 1 });
  assert.throws(() => runPython('assert tcpi_reord_seen == 2', s), (e: unknown) => e instanceof Unsupported && /tcpi_reord_seen/.test(e.message));
  assert.throws(() => runPython('import os', s), (e: unknown) => e instanceof Unsupported && /import os/.test(e.message));
  assert.throws(() => runPython('assert [tcpi_snd_cwnd] == 1', s), Unsupported);
  assert.throws(() => runPython('y += 1', s), (e: unknown) => e instanceof Unsupported && /y used before/.test(e.message));
});
