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
    // Tab leaves the editor, as in any other text box (a keyboard user is not trapped in it); Ctrl-] indents
    if (yasqe.setOption) {
      yasqe.setOption("extraKeys", Object.assign({}, yasqe.getOption("extraKeys"),
                                                 { "Tab": false, "Shift-Tab": false }));
    }
  }
  if (host.getAttribute("data-run") && tab && tab.query) { tab.query(); }  // came with a query: show its results
  form.style.display = "none";
  // YASGUI leaves some of its controls without a name a screen reader can say: name them as they come
  function nameOf(control) {
    if (control.classList.contains("autocomplete")) { return "SPARQL endpoint"; }
    if (control.classList.contains("tableSizer")) { return "Rows per page"; }
    if (control.closest(".CodeMirror")) { return "SPARQL query editor (Tab moves on)"; }
    if (control.closest(".tab")) { return "Tab name"; }
    var before = control.previousElementSibling;
    if (control.tagName === "SELECT" && before && before.textContent) {
      return "Results format for " + before.textContent.trim();
    }
    return null;
  }
  function label() {
    host.querySelectorAll("input:not([aria-label]), select:not([aria-label]), textarea:not([aria-label])")
      .forEach(function (control) {
        if (control.labels && control.labels.length) { return; }
        var name = nameOf(control);
        if (name) { control.setAttribute("aria-label", name); }
      });
  }
  label();
  new MutationObserver(label).observe(host, { childList: true, subtree: true });
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
