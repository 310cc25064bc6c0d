// Copy buttons: <button data-copy="id-of-element" hidden>. Shown only where scripts run.
(function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.getAttribute("href") || source.textContent.trim()).then(
        function () { button.textContent = "Copied"; },
        function () { button.textContent = "Select and copy it by hand"; });
      setTimeout(function () { button.textContent = label; }, 2500);
    });
  });
})();
