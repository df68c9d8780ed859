/* The kiosks' 職員を呼ぶ requests on a staff page (decision 0057): every few seconds, fetch
   /staff/kiosk-calls and put its calls section in place of this page's one when it changed.
   The request says it is a poll (X-Portal-Poll), so it does not keep the member signed in.
   Without JavaScript, reloading the page shows the same. */
(function () {
  "use strict";
  var section = document.getElementById("kiosk-calls");
  if (!section || !window.fetch || !window.DOMParser) { return; }
  var url = section.getAttribute("data-poll-url");
  var INTERVAL = 5000;

  function poll() {
    window.fetch(url, { credentials: "same-origin", headers: { "X-Portal-Poll": "1" }, redirect: "manual" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html) {
          var fresh = new window.DOMParser().parseFromString(html, "text/html").getElementById("kiosk-calls");
          var current = document.getElementById("kiosk-calls");
          if (fresh && current) {
            // The answer forms come back to this page, not to the polled one.
            Array.prototype.forEach.call(fresh.querySelectorAll("input[name=next]"), function (input) {
              input.value = window.location.pathname + window.location.search;
            });
            // Only the live region's contents change, so a screen reader announces the call.
            var freshStatus = fresh.querySelector("[role=status]");
            var currentStatus = current.querySelector("[role=status]");
            if (freshStatus && currentStatus && freshStatus.innerHTML !== currentStatus.innerHTML) {
              currentStatus.innerHTML = freshStatus.innerHTML;
            }
          }
        }
        window.setTimeout(poll, INTERVAL);
      })
      .catch(function () { window.setTimeout(poll, INTERVAL); });
  }
  window.setTimeout(poll, INTERVAL);
})();
