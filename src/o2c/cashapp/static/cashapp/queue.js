// Keyboard use of the cash-application queue: j/k to move, digits and letters to act.
(function () {
  var current = -1;
  // Requests sent without a response yet. Keys pressed meanwhile wait, in order, so that
  // a digit typed right after j acts on the new line, and j typed after a digit waits for
  // the decision and the refreshed queue.
  var inFlight = 0;
  var waiting = [];

  // The bank line chosen last, so the selection survives a refresh of the rows.
  var selectedLine = null;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue-rows tr[data-line]")); }
  function highlight(list) {
    list.forEach(function (row, position) { row.classList.toggle("selected", position === current); });
  }
  function select(index) {
    var list = rows();
    if (!list.length) { return; }
    current = Math.max(0, Math.min(index, list.length - 1));
    selectedLine = list[current].getAttribute("data-line");
    highlight(list);
    list[current].focus();
    list[current].click();
  }
  function afterRowsRefresh() {
    // The chosen line keeps its highlight where it moved. A decided line has left the
    // queue, so the next j goes to the line that took its place.
    var list = rows();
    var found = list.findIndex(function (row) { return row.getAttribute("data-line") === selectedLine; });
    current = found >= 0 ? found : Math.min(current, list.length) - 1;
    highlight(list);
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

  // Counts the queue-changed events that reached the page.
  var queueChanges = 0;
  document.body.addEventListener("queue-changed", function () { queueChanges++; });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "queue-rows") { afterRowsRefresh(); }
  });
  document.body.addEventListener("htmx:beforeSend", function (event) {
    var request = event.detail.xhr;
    var changesBefore = queueChanges;
    inFlight++;
    request.addEventListener("loadend", function () {
      inFlight--;
      // htmx fires a response's queue-changed on the element that sent the request. If
      // that button left the page before the response came, the event never reached the
      // page, so it is fired here, once.
      var trigger = request.getResponseHeader && request.getResponseHeader("HX-Trigger");
      var expected = trigger && trigger.indexOf("queue-changed") !== -1;
      if (expected && queueChanges === changesBefore) {
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
    if (!row) { return; }
    current = rows().indexOf(row);
    selectedLine = row.getAttribute("data-line");
    highlight(rows());
  });
})();
