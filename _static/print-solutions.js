/* Print the folded solutions.  _static/custom.css shows them in print through
   ::details-content; browsers without it print a closed <details> as its summary
   alone, so open every fold before printing and close again those that were closed. */
(function () {
  "use strict";
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.hide:not([open])").forEach(function (fold) {
      fold.open = true;
      opened.push(fold);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (fold) {
      fold.open = false;
    });
    opened = [];
  });
})();
