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
        // Only parts that are empty or still hold what an earlier look-up put there, and not
        // the one the resident is typing in now: what the resident types is never overwritten
        // or run together with the look-up's text.
        ["prefecture", "city", "town"].forEach(function (part) {
          var input = box.querySelector("input[name='" + path + "." + part + "']");
          if (input && input !== document.activeElement &&
              (!input.value || input.value === filled[part])) {
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

  // Date shortcuts (decision 0076): the button fills its date field in place instead of
  // posting the form (which is what it does without this script), and says so.
  var fillButtons = document.querySelectorAll("button[data-fill-target]");
  if (fillButtons.length) {
    var filled = document.createElement("div");
    filled.className = "visually-hidden";
    filled.setAttribute("aria-live", "polite");
    filled.setAttribute("aria-atomic", "true");
    fillButtons[0].closest("form").appendChild(filled);
    fillButtons.forEach(function (button) {
      button.addEventListener("click", function (event) {
        var input = document.getElementById(button.getAttribute("data-fill-target"));
        if (!input) { return; }
        event.preventDefault();
        input.value = button.getAttribute("data-fill");
        input.dispatchEvent(new Event("change", { bubbles: true }));
        filled.textContent = button.getAttribute("data-filled");
      });
    });
  }
})();

/* Conditional questions (decision 0064): a question whose condition depends on an answer on the
   same page is in the page, hidden while it does not apply. Its wrapper carries the table of the
   answers for which it applies; here it is shown and hidden as the resident answers. Without
   this script the page shows it after 次へ進む. The `_asked` input tells the server whether the
   page showed the question. */
(function () {
  "use strict";

  var wrappers = Array.prototype.slice.call(document.querySelectorAll("[data-conditional]"));
  if (!wrappers.length) { return; }
  var form = wrappers[0].closest("form");
  if (!form) { return; }

  // A polite live region of its own (not role=status: the page's notices keep that role).
  var status = document.createElement("div");
  status.className = "visually-hidden";
  status.setAttribute("aria-live", "polite");
  status.setAttribute("aria-atomic", "true");
  status.setAttribute("data-conditional-announcer", "");
  form.appendChild(status);

  var items = wrappers.map(function (wrapper) {
    var table = JSON.parse(wrapper.getAttribute("data-conditional"));
    var show = {};
    table.show.forEach(function (combination) { show[JSON.stringify(combination)] = true; });
    return { wrapper: wrapper, on: table.on, show: show };
  });

  function inputsNamed(name) {
    return Array.prototype.filter.call(form.elements, function (element) {
      return element.name === name;
    });
  }

  function hiddenByCondition(element) {
    var wrapper = element.closest(".conditional");
    return Boolean(wrapper && wrapper.hidden);
  }

  // The trigger's value as the server's table names it: null when unanswered or hidden; for
  // checkboxes the options checked among those the condition names (`many`), in their order.
  function valueOf(name, many) {
    var inputs = inputsNamed(name);
    if (!inputs.length || hiddenByCondition(inputs[0])) { return null; }
    if (many) {
      return inputs.filter(function (i) {
        return i.checked && many.indexOf(i.value) !== -1;
      }).map(function (i) { return i.value; });
    }
    var chosen = inputs.filter(function (i) {
      return i.type === "radio" || i.type === "checkbox" ? i.checked : i.value !== "";
    });
    return chosen.length ? chosen[0].value : null;
  }

  function setShown(item, visible, announce) {
    if (item.wrapper.hidden === !visible) { return false; }
    var hadFocus = item.wrapper.contains(document.activeElement);
    item.wrapper.hidden = !visible;
    var asked = item.wrapper.querySelector("input[name='_asked']");
    if (asked) { asked.disabled = !visible; }
    if (hadFocus && announce && announce.focusBack) { announce.focusBack.focus(); }
    if (announce) {
      var label = item.wrapper.getAttribute("data-label");
      announce.messages.push(visible ? "質問「" + label + "」が追加されました。"
        : "質問「" + label + "」は不要になりました。");
    }
    return true;
  }

  function update(announce) {
    // A question behind another conditional question follows it: repeat until nothing changes.
    for (var pass = 0; pass <= items.length; pass += 1) {
      var changed = false;
      items.forEach(function (item) {
        var key = JSON.stringify(item.on.map(function (trigger) {
          return valueOf(trigger[0], trigger[1] === "many" ? trigger[2] : null);
        }));
        changed = setShown(item, Boolean(item.show[key]), announce) || changed;
      });
      if (!changed) { break; }
    }
  }

  update(null);  // the browser may have restored other answers than the page was made with
  form.addEventListener("change", function (event) {
    var announce = { messages: [], focusBack: event.target };
    update(announce);
    if (announce.messages.length) { status.textContent = announce.messages.join(""); }
  });
})();
