// Keyboard use of the cash-application queue: j/k to move, digits and letters to act.
(function () {
  var current = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue-rows tr[data-line]")); }
  function select(index) {
    var list = rows();
    if (!list.length) { return; }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (row, position) { row.classList.toggle("selected", position === current); });
    list[current].focus();
    list[current].click();
  }
  document.body.addEventListener("queue-changed", function () { current = Math.max(current - 1, -1); });
  document.addEventListener("keydown", function (event) {
    var tag = event.target.tagName;
    var typing = tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
    if (event.key === "Escape" && typing) { event.target.blur(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "j") { select(current + 1); event.preventDefault(); return; }
    if (event.key === "k") { select(current - 1); event.preventDefault(); return; }
    var target = document.querySelector('#workbench [data-hotkey="' + event.key + '"]');
    if (!target) { return; }
    event.preventDefault();
    if (target.tagName === "BUTTON") { target.click(); } else { target.focus(); }
  });
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#queue-rows tr[data-line]");
    if (row) { current = rows().indexOf(row); rows().forEach(function (item) { item.classList.toggle("selected", item === row); }); }
  });
})();
