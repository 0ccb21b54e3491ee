/* Small behaviours every page may use, kept out of the HTML so the Content-Security-Policy
 * can forbid inline scripts and event handlers (no onclick=, onchange=, javascript: URLs).
 *   <select data-autosubmit>  submits its form when changed
 *   <a data-history-back>     goes back one page (its href is the fallback without JavaScript)
 */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field instanceof Element && field.hasAttribute("data-autosubmit") && field.form) {
      field.form.submit();
    }
  });
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("a[data-history-back]") : null;
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
