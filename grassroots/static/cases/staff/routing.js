// Smart-dispatch suggestions: one click fills the accept / whistle forms below (nothing is sent until submitted).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-route-category], [data-route-department]");
    if (!button) return;
    var category = button.getAttribute("data-route-category");
    var department = button.getAttribute("data-route-department");
    if (category) {
      document.querySelectorAll('form.step select[name="category"]').forEach(function (select) {
        select.value = category;
        select.classList.add("routing-picked");
      });
      var recheck = document.querySelector("[data-routing-recheck]");
      if (recheck && button.getAttribute("data-current") !== "1") recheck.hidden = false;
    }
    if (department) {
      document.querySelectorAll('form.step input[name="departments"][value="' + department + '"]').forEach(function (box) {
        box.checked = true;
        box.parentElement.classList.add("routing-picked");
      });
    }
    button.textContent = "已选用";
  });
})();
