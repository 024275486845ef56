/* Live character counters for the portal's text fields (progressive enhancement).
 *
 * Every field with data-limit="N" has a hint element "<id>-limit" that the server already
 * fills with "Tối đa N ký tự". This script turns it into "Đã nhập x/N ký tự" as the citizen
 * types and marks it when the text is too long. It never cuts what was typed (no maxlength:
 * a browser would silently drop the end of a paste); the server refuses over-long text with
 * a message and keeps it on the page.
 */
(function () {
  "use strict";
  function format(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }
  function attach(field) {
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    var hint = document.getElementById(field.id + "-limit");
    if (!limit || !hint) { return; }
    var base = hint.textContent;
    // No aria-live: a counter read out at every key press would drown the form; the field
    // is marked invalid instead when it passes the limit, which a screen reader announces.
    function update() {
      var length = Array.from(field.value.normalize ? field.value.normalize("NFC") : field.value).length;
      // Short one-line fields (phone, ID number…) count only near their limit; free text
      // always shows how much room is left.
      var quiet = field.tagName === "INPUT" && length < limit * 0.8;
      if (length === 0 || quiet) {
        hint.textContent = base;
        if (hint.classList.contains("over")) { field.removeAttribute("aria-invalid"); }
        hint.classList.remove("over");
        return;
      }
      if (length > limit) {
        hint.textContent = "Đã nhập " + format(length) + "/" + format(limit) +
          " ký tự: vượt " + format(length - limit) + " ký tự, hãy rút gọn trước khi nộp.";
        hint.classList.add("over");
        field.setAttribute("aria-invalid", "true");
      } else {
        hint.textContent = "Đã nhập " + format(length) + "/" + format(limit) + " ký tự.";
        if (hint.classList.contains("over")) { field.removeAttribute("aria-invalid"); }
        hint.classList.remove("over");
      }
    }
    field.addEventListener("input", update);
    update();
  }
  function start() {
    document.querySelectorAll("[data-limit]").forEach(attach);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
