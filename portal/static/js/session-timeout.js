/* Idle-timeout warning for signed-in sessions (WCAG 2.2.1 Timing Adjustable, 2.2.6 Timeouts).
   Progressive enhancement: included only for signed-in pages; without it the session still ends
   on the server and saved steps are kept. Two minutes before the end the warning opens as a modal
   alertdialog with focus on 「ログインを延長する」; the countdown is visible but not a live region
   (only a few milestones are announced). Before warning, and when time runs out, the server is
   asked how long is left (that question does not count as activity), so another tab's activity is
   respected. See docs/decisions/0018-session-timeout-warning.md. */
(function () {
  "use strict";

  var WARN_SECONDS = 120;
  var ANNOUNCE_AT = [60, 20];
  var dialog = document.getElementById("session-timeout");
  var initial = parseInt(document.body.getAttribute("data-session-seconds-left"), 10);
  if (!dialog || typeof dialog.showModal !== "function" || !window.fetch || isNaN(initial)) {
    return;
  }

  var warningState = dialog.querySelector("[data-state=warning]");
  var expiredState = dialog.querySelector("[data-state=expired]");
  var countdown = dialog.querySelector("[data-countdown]");
  var announcer = dialog.querySelector("[data-announce]");
  var form = dialog.querySelector("[data-extend-form]");
  var extendButton = form.querySelector("button");
  var status = document.getElementById("session-timeout-status");
  var timeLeftUrl = dialog.getAttribute("data-time-left-url");

  var deadline = 0; // Date.now() at which the server ends the session
  var extendable = true;
  var expired = false;
  var busy = false;
  var timer = null;
  var ticker = null;
  var announced = {};
  var returnFocus = null;

  function secondsLeft() {
    return Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
  }

  // Texts in the page's language come from the dialog's data-text-* attributes (decision 0072);
  // the Japanese here is only the fallback.
  function text(name, fallback) {
    return dialog.getAttribute("data-text-" + name) || fallback;
  }

  function fill(format, values) {
    return format.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function duration(seconds) {
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    var values = { m: minutes, s: rest };
    if (minutes === 0) { return fill(text("seconds", "{s}秒"), values); }
    return rest === 0
      ? fill(text("minutes", "{m}分"), values)
      : fill(text("minutes-seconds", "{m}分{s}秒"), values);
  }

  function setDeadline(seconds, canExtend) {
    deadline = Date.now() + seconds * 1000;
    extendable = canExtend !== false;
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, Math.max(0, deadline - WARN_SECONDS * 1000 - Date.now()));
  }

  function request(method, url) {
    var headers = { Accept: "application/json" };
    if (method === "POST") {
      headers["X-CSRFToken"] = form.querySelector("[name=csrf_token]").value;
    }
    return window.fetch(url, { method: method, headers: headers, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401 || response.status === 400) { return { signed_in: false }; }
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      });
  }

  // Ask the server (not counted as activity) and warn, expire or wait accordingly.
  function check() {
    if (expired) { return; }
    request("GET", timeLeftUrl).then(function (data) {
      if (!data.signed_in || data.seconds_left <= 0) { expire(); return; }
      setDeadline(data.seconds_left, data.extendable);
      if (data.seconds_left > WARN_SECONDS) {
        hideWarning(false);
        schedule();
      } else {
        warn();
      }
    }, function () {
      // The server cannot be asked (offline): go by our own estimate.
      if (secondsLeft() <= 0) { expire(); } else { warn(); }
    });
  }

  function showState(state) {
    var isWarning = state === warningState;
    warningState.hidden = !isWarning;
    expiredState.hidden = isWarning;
    var heading = state.querySelector("h2").id;
    var message = state.querySelector("p[id]").id;
    dialog.setAttribute("aria-labelledby", heading);
    dialog.setAttribute("aria-describedby", message);
  }

  function warn() {
    showState(warningState);
    form.hidden = !extendable;
    dialog.querySelector("[data-extendable]").hidden = !extendable;
    dialog.querySelector("[data-not-extendable]").hidden = extendable;
    if (!dialog.open) {
      announced = {};
      announcer.textContent = "";
      tick();
      returnFocus = document.activeElement;
      dialog.showModal();
      (extendable ? extendButton : dialog.querySelector("h2")).focus();
    }
    window.clearInterval(ticker);
    ticker = window.setInterval(tick, 1000);
  }

  function tick() {
    var left = secondsLeft();
    countdown.textContent = duration(left);
    ANNOUNCE_AT.forEach(function (mark) {
      if (left <= mark && left > 0 && !announced[mark] && dialog.open) {
        announced[mark] = true;
        announcer.textContent = fill(text("left", "ログインが切れるまで、あと{time}です。"), { time: duration(mark) });
      }
    });
    if (left <= 0) {
      window.clearInterval(ticker);
      check(); // another tab may have extended the session
    }
  }

  function hideWarning(announce) {
    window.clearInterval(ticker);
    if (!dialog.open) { return; }
    dialog.close();
    var back = returnFocus && document.contains(returnFocus) ? returnFocus : document.getElementById("main");
    if (back) { back.focus(); }
    if (announce) {
      status.textContent = "";
      window.setTimeout(function () {
        status.textContent = dialog.getAttribute("data-extended-message");
      }, 100);
    }
  }

  function expire() {
    window.clearTimeout(timer);
    window.clearInterval(ticker);
    if (dialog.open) {
      dialog.close(); // opened again below, so the new text is announced as a new dialog
    } else {
      returnFocus = document.activeElement;
    }
    expired = true;
    showState(expiredState);
    dialog.showModal();
    expiredState.querySelector("a").focus();
  }

  // On a form step, logging in again first sends what was typed on this page: the server keeps
  // it for the same person and gives it back after the login (the page itself says so).
  var keepForm = document.querySelector("form[data-keep-on-expiry]");
  if (keepForm) {
    var loginLink = expiredState.querySelector("a");
    loginLink.textContent = text("keep-and-login", "入力内容を預けて、もう一度ログインする");
    loginLink.addEventListener("click", function (event) {
      event.preventDefault();
      keepForm.submit();
    });
  }

  function extend() {
    if (busy || expired) { return; }
    busy = true;
    extendButton.disabled = true;
    request("POST", form.getAttribute("action")).then(function (data) {
      if (!data.signed_in) { expire(); return; }
      setDeadline(data.seconds_left, data.extendable);
      hideWarning(true);
      schedule();
    }, function () {
      announcer.textContent = text("extend-failed", "延長できませんでした。通信環境を確認して、もう一度押してください。");
    }).then(function () {
      busy = false;
      extendButton.disabled = false;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    extend();
  });

  // Escape in the warning means "I am here": extend. Once expired, it just closes the dialog.
  dialog.addEventListener("cancel", function (event) {
    if (!expired) {
      event.preventDefault();
      if (extendable) { extend(); }
    }
  });

  dialog.querySelector("[data-close]").addEventListener("click", function () {
    dialog.close();
  });

  dialog.addEventListener("close", function () {
    if (expired) {
      var back = returnFocus && document.contains(returnFocus) ? returnFocus : document.getElementById("main");
      if (back) { back.focus(); }
    }
  });

  // Timers in a hidden tab are slowed down: ask again when the tab is shown.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && !expired) { check(); }
  });

  setDeadline(initial, true);
  schedule();
})();
