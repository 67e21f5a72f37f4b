// Upgrade the plain query form to YASGUI when the editor was installed (npm install --prefix server/static).
(function () {
  "use strict";
  var host = document.getElementById("yasgui");
  var form = document.getElementById("plain-form");
  var textarea = document.getElementById("query");
  if (!window.Yasgui || !host) { return; }
  var yasgui = new window.Yasgui(host, {
    requestConfig: { endpoint: window.location.origin + "/sparql", method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: { getData: function () { return []; } },
    persistenceId: null,
    yasqe: { value: textarea.value }
  });
  // no lookups on other sites (prefix.cc, LOV): only local completions
  var tab = yasgui.getTab();
  if (tab && tab.getYasqe) {
    var yasqe = tab.getYasqe();
    ["prefixes", "property", "class"].forEach(function (name) {
      if (yasqe.disableCompleter) { yasqe.disableCompleter(name); }
    });
    yasqe.setValue(textarea.value);
  }
  if (host.getAttribute("data-run") && tab && tab.query) { tab.query(); }  // came with a query: show its results
  form.style.display = "none";
  host.querySelectorAll("input:not([aria-label])").forEach(function (input) {  // YASGUI's endpoint box has no label
    if (input.classList.contains("autocomplete")) { input.setAttribute("aria-label", "SPARQL endpoint"); }
  });
  document.querySelectorAll("#examples a[data-query]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var current = yasgui.getTab();
      current.setQuery(link.getAttribute("data-query"));
      current.query();
      window.scrollTo(0, 0);
    });
  });
})();
