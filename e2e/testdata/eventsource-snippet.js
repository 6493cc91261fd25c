// An unmodified third-party snippet, loaded as a classic script: it knows
// nothing about esshim and just uses the global EventSource.
(function () {
  var url = document.currentScript.dataset.url;
  var sources = [];
  for (var i = 0; i < 3; i++) {
    var es = new EventSource(url);
    es.onmessage = function (e) { globalThis.snippetMessages = (globalThis.snippetMessages || 0) + 1; };
    sources.push(es);
  }
  globalThis.snippetSources = sources;
})();
