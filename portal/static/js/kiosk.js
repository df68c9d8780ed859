/* The kiosk frame's idle countdown (docs/decisions/0048-kiosk-mode.md). The server decides:
   it rendered how many seconds the visit has left, answers /kiosk/time-left by its own clock
   (that question is not activity), and ends an idle visit by itself whatever this script does.
   This script only shows the warning when the server says the reset is near, sends 続ける, and
   when the time is up leaves for the start screen with location.replace, so that the visit's
   page does not stay in the history. It also keeps anything from leaving the kiosk: links lose
   target and download, and no field offers the browser's remembered entries. */
(function () {
  "use strict";

  Array.prototype.forEach.call(document.querySelectorAll("a[target], a[download]"), function (a) {
    a.removeAttribute("target");
    a.removeAttribute("download");
  });
  // Only where the attribute is allowed (not on hidden, radio, checkbox, file or button inputs).
  var fields = "form, textarea, select, input:not([type=hidden]):not([type=radio])" +
    ":not([type=checkbox]):not([type=file]):not([type=submit]):not([type=button])" +
    ":not([type=reset]):not([type=image])";
  Array.prototype.forEach.call(document.querySelectorAll(fields), function (el) {
    el.setAttribute("autocomplete", "off");
  });

  var dialog = document.getElementById("kiosk-timeout");
  if (!dialog || !window.fetch) { return; }
  var warnSeconds = parseInt(dialog.getAttribute("data-warning-seconds"), 10);
  var initial = parseInt(dialog.getAttribute("data-seconds-left"), 10);
  var timeLeftUrl = dialog.getAttribute("data-time-left-url");
  var startUrl = dialog.getAttribute("data-start-url");
  var form = dialog.querySelector("[data-keep-form]");
  var countdown = dialog.querySelector("[data-countdown]");
  // The unit in the visit's language ("{n}秒", "{n} s"), from the server.
  var format = countdown.getAttribute("data-countdown-format") || "{n}秒";
  var deadline = Date.now() + initial * 1000;
  var asking = false;
  var leaving = false;

  function secondsLeft() {
    return Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
  }

  function leave() {
    if (leaving) { return; }
    leaving = true;
    window.location.replace(startUrl);
  }

  function show() {
    countdown.textContent = format.replace("{n}", secondsLeft());
    if (!dialog.open) {
      if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
      form.querySelector("button").focus();
    }
  }

  function hide() {
    if (dialog.open) { dialog.close(); }
  }

  // The server's word on the time left: resynchronise, warn, or leave.
  function ask() {
    if (asking) { return; }
    asking = true;
    window.fetch(timeLeftUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        if (!response.ok) { throw new Error("ended"); }
        return response.json();
      })
      .then(function (data) {
        asking = false;
        if (!data || data.seconds_left <= 0) { leave(); return; }
        deadline = Date.now() + data.seconds_left * 1000;
        if (data.seconds_left > warnSeconds) { hide(); } else { show(); }
      })
      .catch(function () { asking = false; leave(); });
  }

  function tick() {
    var left = secondsLeft();
    if (left <= 0 || (left <= warnSeconds && !dialog.open)) { ask(); return; }
    if (dialog.open) { countdown.textContent = format.replace("{n}", left); }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.fetch(form.action, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": form.querySelector("[name=csrf_token]").value },
      credentials: "same-origin",
      redirect: "manual"
    })
      .then(function (response) {
        if (!response.ok) { throw new Error("ended"); }
        return response.json();
      })
      .then(function (data) {
        deadline = Date.now() + data.seconds_left * 1000;
        hide();
      })
      .catch(leave);
  });
  dialog.addEventListener("cancel", function (event) { event.preventDefault(); });
  window.setInterval(tick, 1000);
})();
