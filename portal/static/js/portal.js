/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";

  // Move focus to the error summary so screen readers announce it (autofocus does this too
  // in browsers that support it on non-form elements).
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }

  // Links in the error summary: focus the field and keep its label in view.
  document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      var container = target.closest(".field") || target;
      container.scrollIntoView();
      target.focus({ preventScroll: true });
    });
  });

  // A second click on a submit button while the first is in flight does nothing
  // (the server is idempotent anyway; this spares the resident a confusing wait).
  document.querySelectorAll("form[data-prevent-double-submit]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitting === "true") {
        event.preventDefault();
        return;
      }
      form.dataset.submitting = "true";
      window.setTimeout(function () { form.dataset.submitting = ""; }, 10000);
    });
  });

  // An address: seven digits typed in the postal code fill prefecture, city and town at once
  // (the 郵便番号から住所を入力する button does the same without JavaScript). The result is
  // announced; a code with no address leaves the fields as they are.
  document.querySelectorAll("fieldset[data-postal-lookup]").forEach(function (box) {
    var path = box.getAttribute("data-path");
    var postal = box.querySelector("input[name='" + path + ".postal_code']");
    var form = box.closest("form");
    var token = form && form.querySelector("input[name='csrf_token']");
    var status = box.querySelector("[data-postal-status]");
    if (!postal || !token || !window.fetch) { return; }
    var looked = "";
    var filled = {};
    postal.addEventListener("input", function () {
      var digits = postal.value.normalize("NFKC").replace(/[^0-9]/g, "");
      if (digits.length !== 7 || digits === looked) { return; }
      looked = digits;
      var body = new URLSearchParams({ postal_code: digits, csrf_token: token.value });
      fetch(box.getAttribute("data-postal-lookup"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (!result.ok || digits !== postal.value.normalize("NFKC").replace(/[^0-9]/g, "")) {
          if (status && result.data && result.data.error) { status.textContent = result.data.error; }
          return;
        }
        // Only parts that are empty or still hold what an earlier look-up put there: what the
        // resident typed is never overwritten.
        ["prefecture", "city", "town"].forEach(function (part) {
          var input = box.querySelector("input[name='" + path + "." + part + "']");
          if (input && (!input.value || input.value === filled[part])) {
            input.value = result.data[part];
            filled[part] = result.data[part];
          }
        });
        if (status) {
          status.textContent = "住所を入力しました：" + result.data.prefecture + result.data.city + result.data.town;
        }
      }).catch(function () { looked = ""; });
    });
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
