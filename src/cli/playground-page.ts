/**
 * The playground page's own script (plain browser JavaScript, kept as text:
 * the project compiles without the DOM's types). It reads the controls (or
 * the URL), runs protostackPlayground.runPlayground, draws the diagram with
 * Mermaid, writes the counts and offers the pcap.
 */
export const PLAYGROUND_SCRIPT = String.raw`
(function () {
  'use strict';
  var MAX_LOSS = 0.5;
  var el = function (id) { return document.getElementById(id); };
  var summary = el('summary'), diagram = el('diagram'), runButton = el('run'), pcapButton = el('download-pcap');
  var pcap = null, drawn = 0;
  mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default', maxTextSize: 1000000, sequence: { useMaxWidth: false, wrap: false, actorMargin: 40, messageMargin: 30 } });

  // Settings from the URL fill the controls, so a link reproduces a run.
  var q = new URLSearchParams(location.search);
  ['loss', 'seed', 'objects', 'http', 'latency'].forEach(function (k) { if (q.has(k)) el(k).value = q.get(k); });

  function settings() {
    var loss = Number(el('loss').value), seed = Number(el('seed').value), objects = Number(el('objects').value);
    var http = el('http').value, latencyMs = Number(el('latency').value);
    if (!(loss >= 0 && loss <= MAX_LOSS)) throw new Error('loss is a probability from 0 to ' + MAX_LOSS);
    if (!Number.isInteger(seed) || seed < 0 || seed > 4294967295) throw new Error('seed is a whole number from 0 to 4294967295');
    if (!Number.isInteger(objects) || objects < 1 || objects > 100) throw new Error('objects is a whole number from 1 to 100');
    if (http !== '1.0' && http !== '1.1') throw new Error('HTTP is 1.0 or 1.1');
    if (!(latencyMs >= 0 && latencyMs <= 1000)) throw new Error('latency is from 0 to 1000 ms');
    return { loss: loss, seed: seed, objects: objects, http: http, latencyMs: latencyMs };
  }

  function run() {
    var s;
    try { s = settings(); } catch (e) { summary.textContent = e.message; summary.dataset.state = 'error'; return; }
    runButton.disabled = true; pcapButton.disabled = true; pcap = null;
    summary.dataset.state = 'running'; summary.textContent = 'Running…';
    diagram.removeAttribute('data-rendered');
    protostackPlayground.runPlayground(s).then(function (r) {
      pcap = r.pcap; pcapButton.disabled = false;
      var c = r.counts;
      summary.textContent = 'packets: ' + c.packets + ', lost: ' + c.lost + ', retransmissions: ' + c.retransmissions +
        '; the flow took ' + r.flowMs.toFixed(3) + ' ms of virtual time (loss ' + s.loss + ', seed ' + s.seed + ', ' + s.objects + ' object(s) over HTTP/' + s.http + ', ' + s.latencyMs + ' ms one way)';
      summary.dataset.packets = String(c.packets); summary.dataset.retransmissions = String(c.retransmissions);
      summary.dataset.state = 'done';
      return mermaid.render('playground-diagram-' + (drawn++), r.mermaid).then(function (out) {
        diagram.innerHTML = out.svg; diagram.dataset.rendered = 'ok';
      });
    }).catch(function (e) {
      summary.dataset.state = 'error'; summary.textContent = 'The run failed: ' + (e && e.message || e);
      diagram.dataset.rendered = 'error';
    }).then(function () { runButton.disabled = false; });
  }

  pcapButton.addEventListener('click', function () {
    if (!pcap) return;
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([pcap], { type: 'application/vnd.tcpdump.pcap' }));
    a.download = 'protostack-playground.pcap';
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
  });
  runButton.addEventListener('click', run);
  if (q.get('autorun') === '1') run();
})();
`;
