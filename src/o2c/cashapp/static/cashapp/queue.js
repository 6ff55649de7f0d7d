// Keyboard use of the cash-application queue: j/k to move, digits and letters to act.
(function () {
  var current = -1;
  // Requests sent without a response yet. Keys pressed meanwhile wait, in order, so that
  // a digit typed right after j acts on the new line, and j typed after a digit waits for
  // the decision and the refreshed queue.
  var inFlight = 0;
  var waiting = [];

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue-rows tr[data-line]")); }
  function select(index) {
    var list = rows();
    if (!list.length) { return; }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (row, position) { row.classList.toggle("selected", position === current); });
    list[current].focus();
    list[current].click();
  }
  function act(key) {
    if (key === "j") { select(current + 1); return; }
    if (key === "k") { select(current - 1); return; }
    var target = document.querySelector('#workbench [data-hotkey="' + key + '"]');
    if (!target) { return; }
    if (target.tagName === "BUTTON") { target.click(); } else { target.focus(); }
  }
  function replay() {
    // Each key may send a request, so the next key waits for its response.
    while (waiting.length && inFlight === 0) { act(waiting.shift()); }
  }
  function isHotkey(key) {
    if (key === "j" || key === "k") { return true; }
    if (document.querySelector('#workbench [data-hotkey="' + key + '"]')) { return true; }
    // While a line is loading, its buttons are not there yet: keep any key they may use.
    return (inFlight > 0 || waiting.length > 0) && /^[0-9a-z\/]$/.test(key);
  }

  document.body.addEventListener("queue-changed", function () { current = Math.max(current - 1, -1); });
  document.body.addEventListener("htmx:beforeSend", function (event) {
    var source = event.detail.elt;
    var request = event.detail.xhr;
    inFlight++;
    request.addEventListener("loadend", function () {
      inFlight--;
      // A decision whose button was replaced before its response still refreshes the queue,
      // because htmx fires the response's event on the button, which left the page.
      var trigger = request.getResponseHeader && request.getResponseHeader("HX-Trigger");
      if (trigger && trigger.indexOf("queue-changed") !== -1 && !document.body.contains(source)) {
        htmx.trigger(document.body, "queue-changed");
      }
      setTimeout(replay, 0);
    });
  });
  document.addEventListener("keydown", function (event) {
    var tag = event.target.tagName;
    var typing = tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
    if (event.key === "Escape" && typing) { event.target.blur(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (!isHotkey(event.key)) { return; }
    event.preventDefault();
    if (inFlight > 0 || waiting.length) { waiting.push(event.key); return; }
    act(event.key);
  });
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#queue-rows tr[data-line]");
    if (row) { current = rows().indexOf(row); rows().forEach(function (item) { item.classList.toggle("selected", item === row); }); }
  });
})();
