// Show every <time datetime> of the page in the viewer's local time; the UTC text the
// server wrote stays in the tooltip. Without this script the UTC text is shown.
(function () {
  var format = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "short"});
  document.querySelectorAll("time[datetime]").forEach(function (element) {
    var when = new Date(element.getAttribute("datetime"));
    if (isNaN(when)) { return; }
    element.title = element.textContent;
    element.textContent = format.format(when);
  });
})();
