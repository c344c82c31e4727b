"use strict";
// Live inbox: each server-sent inbox event of the shop tells htmx to refresh
// the list and the open conversation (their hx-trigger is "inbox-changed from:body").
(function () {
  var root = document.querySelector("[data-inbox-events]");
  if (!root || !window.EventSource) {
    return;
  }
  var source = new EventSource(root.getAttribute("data-inbox-events"));
  ["waiting", "assigned", "message", "resolved", "rated"].forEach(function (kind) {
    source.addEventListener(kind, function () {
      document.body.dispatchEvent(new CustomEvent("inbox-changed"));
    });
  });
  source.onopen = function () {
    root.setAttribute("data-live", "true");
  };
  source.onerror = function () {
    root.setAttribute("data-live", "false");
  };
})();
