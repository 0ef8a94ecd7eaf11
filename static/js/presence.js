/* Presence: report the ticket on screen every few seconds and say who else has it open.
   The ticket page names its ticket in data-ticket-id; the review stream announces each ticket
   it shows with a "review:ticket" event (review.js). */
(function () {
  "use strict";
  var box = document.querySelector("[data-presence]");
  if (!box) return;
  var text = box.querySelector("[data-presence-text]");
  var csrf = box.querySelector("[name=csrfmiddlewaretoken]");
  var ticketId = box.dataset.ticketId || null;
  var timer = null;

  function show(names) {
    box.hidden = !names.length;
    text.textContent = names.length ? box.dataset.msgOthers.split("{names}").join(names.join("、")) : "";
  }

  function urlFor(id) { return box.dataset.presenceUrl.replace("/0/", "/" + id + "/"); }

  function leave(id) {
    if (!id) return;
    fetch(urlFor(id), {
      method: "DELETE", credentials: "same-origin", keepalive: true,
      headers: { Accept: "application/json", "X-CSRFToken": csrf ? csrf.value : "" }
    }).catch(function () { /* the report simply expires */ });
  }

  function poll() {
    clearTimeout(timer);
    if (!ticketId) { show([]); return; }
    var id = ticketId;
    fetch(urlFor(id), {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf ? csrf.value : "" }
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (id !== ticketId) return;  // the agent moved on while this was in flight
        if (data) show(data.others);
        timer = setTimeout(poll, ((data && data.poll_seconds) || 15) * 1000);
      })
      .catch(function () { timer = setTimeout(poll, 30000); });
  }

  document.addEventListener("review:ticket", function (event) {
    var next = event.detail && event.detail.id ? String(event.detail.id) : null;
    if (next === ticketId) return;
    leave(ticketId);
    ticketId = next;
    show([]);
    poll();
  });
  window.addEventListener("pagehide", function () { leave(ticketId); });
  poll();
})();
