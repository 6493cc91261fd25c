// The demo page: live events through esshim's fetch bridge.
import { load } from '/dist/esshim.js';

const $ = (id) => document.getElementById(id);
const shim = await load();
$('version').textContent = `v${shim.version}`;

let stream;
$('stream-form').addEventListener('submit', (e) => {
  e.preventDefault();
  stream?.close();
  const events = $('events');
  $('stream-status').textContent = 'connecting…';
  stream = shim.openEventStream($('stream-url').value, {
    onopen: (info) => { $('stream-status').textContent = `open (HTTP ${info.status})`; },
    onevent: (ev) => {
      const li = document.createElement('li');
      li.textContent = `[${ev.type}] id=${ev.lastEventId} ${ev.data}`;
      events.prepend(li);
    },
  });
  $('stream-close').disabled = false;
  stream.done.then(
    (r) => { $('stream-status').textContent = `ended (${r.reason}), last event id ${r.lastEventId || '–'}`; },
    (err) => { $('stream-status').innerHTML = `<span class="error">${err.code}: ${err.message}</span>`; },
  );
});
$('stream-close').addEventListener('click', () => { stream?.close(); $('stream-close').disabled = true; });
