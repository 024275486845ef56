/* The page chrome on narrow screens (issue 17): the account block and the main menu fold
   behind a "Menu" button so that a phone shows the page, not the navigation.
   Progressive enhancement: without this script the button stays hidden and the chrome is
   shown in its compact, always-open form (site.css, "mobile chrome"). Loaded with defer;
   no inline script (CSP). */
(function () {
  "use strict";
  var root = document.documentElement;

  /* A table wider than a phone scrolls sideways inside itself (site.css): it must then be
     reachable with the keyboard (WCAG 2.1.1; axe "scrollable-region-focusable"). */
  function focusableWideTables() {
    var tables = document.querySelectorAll("table.grid:not([tabindex])");
    for (var i = 0; i < tables.length; i += 1) {
      var table = tables[i];
      if (table.scrollWidth > table.clientWidth + 1) {
        table.setAttribute("tabindex", "0");
        if (!table.hasAttribute("aria-label") && !table.hasAttribute("aria-labelledby")) {
          var caption = table.querySelector("caption");
          table.setAttribute("aria-label", (caption ? caption.textContent.trim() + " — " : "")
            + "bảng, cuộn ngang để xem hết");
        }
      }
    }
  }
  focusableWideTables();
  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(focusableWideTables, 200);
  });

  var button = document.querySelector(".menu-toggle");
  if (!button) {
    return;
  }
  root.classList.add("chrome-js");
  button.hidden = false;
  button.setAttribute("aria-expanded", "false");

  function set(open) {
    root.classList.toggle("chrome-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  button.addEventListener("click", function () {
    set(button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && root.classList.contains("chrome-open")) {
      set(false);
      button.focus();
    }
  });
})();
