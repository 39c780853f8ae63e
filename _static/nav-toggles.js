/* Make the visible sidebar buttons work.

   pydata-sphinx-theme 0.17 binds its click handler (open the chapter list or the
   page contents as a drawer on narrow screens) to the FIRST element with the class
   .primary-toggle / .secondary-toggle, and sphinx-book-theme 1.3 binds its own (hide
   the chapter list on wide screens) to the same first element.  In this site's pages
   the first of each is the hidden button of the top bar; the buttons a reader sees,
   in the article header, do nothing (pydata-sphinx-theme #2451, sphinx-book-theme
   #988).  This script hands a click on any other toggle to the one the themes bound,
   so the themes' own code (drawer, focus handling, Escape to close) does the work.
   Jupyter Book loads every .js file in _static/ on every page. */
(function () {
  "use strict";
  var KINDS = [".primary-toggle", ".secondary-toggle"];
  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) {
      return;
    }
    for (var i = 0; i < KINDS.length; i++) {
      var clicked = event.target.closest(KINDS[i]);
      if (!clicked) {
        continue;
      }
      var bound = document.querySelector(KINDS[i]);
      if (bound && bound !== clicked) {
        event.preventDefault();
        event.stopPropagation();
        clicked.blur();
        bound.click();
      }
      return;
    }
  });
})();
