// The review stream: confirm the review queue from the keyboard, one ticket after another,
// without reloading the page. The server decides everything (permissions, the queue order);
// this file only fetches JSON, shows it with textContent (never innerHTML) and sends the key pressed.
(function () {
  "use strict";

  var root = document.getElementById("review");
  if (!root) return;

  var csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  var el = function (name) { return root.querySelector("[data-" + name + "]"); };
  var ticketBox = el("ticket");
  var allBox = el("all-categories");
  var orderSelect = el("order");

  var tickets = [];     // the tickets loaded, in the server's order
  var index = 0;        // the one on screen
  var history = [];     // confirmed ticket ids, for undo (last first out)
  var sent = {};       // ids confirmed here: never fetched again, even before the server has answered
  var busy = false;    // an undo is running
  var exhausted = false;
  var renderedId = null;
  var selected = {};   // id -> category code (the first suggestion when selected with x)

  function message(name, values) {
    var text = root.dataset["msg" + name] || "";
    Object.keys(values || {}).forEach(function (key) { text = text.split("{" + key + "}").join(values[key]); });
    return text;
  }

  function status(text) { el("status").textContent = text; }

  function setRemaining(count) {
    el("remaining").textContent = count;
    // The navigation badge follows the same count (live-updates keeps it in step otherwise).
    document.querySelectorAll("[data-review-count]").forEach(function (badge) { badge.textContent = count; });
  }

  function urlFor(template, id) { return template.replace("/0/", "/" + id + "/"); }

  function request(method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrf;
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || response.status + " " + response.statusText);
        return data;
      });
    });
  }

  function load() {
    var params = new URLSearchParams({ order: orderSelect.value, limit: "20" });
    var held = tickets.map(function (t) { return t.id; }).concat(Object.keys(sent));
    params.set("exclude", held.join(","));
    return request("GET", root.dataset.ticketsUrl + "?" + params.toString()).then(function (data) {
      if (!data.tickets.length) exhausted = true;
      var known = {};
      tickets.forEach(function (t) { known[t.id] = true; });
      tickets = tickets.concat(data.tickets.filter(function (t) { return !known[t.id] && !sent[t.id]; }));
      setRemaining(data.remaining);
    });
  }

  function percent(value) { return value === null || value === undefined ? "" : Math.round(value * 100) + "%"; }

  function render() {
    var ticket = tickets[index];
    // A background load re-renders the same ticket: leave the agent's open category list alone.
    el("position").textContent = ticket ? message("Position", { position: index + 1, total: tickets.length }) : "";
    el("selected-mark").hidden = !(ticket && selected[ticket.id]);
    if (ticket && ticket.id === renderedId) return;
    renderedId = ticket ? ticket.id : null;
    document.dispatchEvent(new CustomEvent("review:ticket", { detail: { id: renderedId } }));  // presence.js
    allBox.hidden = true;
    ticketBox.hidden = !ticket;
    el("empty").hidden = !!ticket;
    if (!ticket) return;
    var link = el("ticket-link");
    link.href = ticket.url;
    link.textContent = "#" + ticket.id;
    el("ticket-meta").textContent = [ticket.received_at, ticket.channel, ticket.product].filter(Boolean).join(" · ");
    var text = el("ticket-text");
    text.replaceChildren();
    ticket.segments.forEach(function (segment) {
      var node = segment[1] ? document.createElement("mark") : document.createTextNode(segment[0]);
      if (segment[1]) node.textContent = segment[0];
      text.appendChild(node);
    });
    var list = el("suggestions");
    list.replaceChildren();
    ticket.suggestions.forEach(function (suggestion, position) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button review__suggestion" + (position === 0 ? " button--primary" : "");
      button.dataset.category = suggestion.code;
      var key = document.createElement("kbd");
      key.textContent = String(position + 1);
      var name = document.createElement("span");
      name.textContent = suggestion.name;
      var confidence = document.createElement("span");
      confidence.className = "review__confidence";
      confidence.textContent = percent(suggestion.confidence);
      button.append(key, name, confidence);
      item.appendChild(button);
      list.appendChild(item);
    });
    renderAlso(ticket);
  }

  // The model's close second complaint: one click records it (it never changes the category).
  function renderAlso(ticket) {
    var box = el("also");
    box.replaceChildren();
    box.hidden = !(ticket.also || ticket.also_category);
    if (ticket.also_category) {
      var done = document.createElement("span");
      done.className = "tag tag--ok";
      done.textContent = message("AlsoSet", { category: ticket.also_category.name });
      box.appendChild(done);
    } else if (ticket.also) {
      var chip = document.createElement("button");
      chip.type = "button";
      chip.className = "button button--small review__also-chip";
      chip.dataset.alsoCode = ticket.also.code;
      chip.textContent = message("AlsoQuestion", { category: ticket.also.name });
      box.appendChild(chip);
    }
  }

  function setAlso(code) {
    var ticket = tickets[index];
    if (!ticket || !code) return;
    request("POST", urlFor(root.dataset.alsoUrl, ticket.id), { also_category: code })
      .then(function (data) {
        ticket.also_category = data.also_category;
        ticket.also = null;
        if (tickets[index] === ticket) renderAlso(ticket);
        status(message("AlsoDone", { id: ticket.id, category: data.also_category ? data.also_category.name : "" }));
      })
      .catch(function (error) { status(message("Error", { error: error.message })); });
  }

  function show(position) {
    index = Math.max(0, Math.min(position, tickets.length));
    // Keep a few tickets ahead so the next one is on screen the moment the agent decides.
    if (!exhausted && tickets.length - index < 5) {
      load().then(render).catch(function (error) { status(message("Error", { error: error.message })); });
    }
    render();
  }

  function confirm(code) {
    var ticket = tickets[index];
    if (!ticket || !code || busy) return;
    sent[ticket.id] = true;
    if (selected[ticket.id]) { delete selected[ticket.id]; showSelection(); }
    // Show the next ticket at once; the request runs while the agent reads it. Undo follows the
    // order of the keys pressed, not the order in which the server happens to answer.
    tickets.splice(index, 1);
    show(index);
    var entry = { ticket: ticket };
    history.push(entry);
    entry.done = request("POST", urlFor(root.dataset.confirmUrl, ticket.id), { category: code })
      .then(function (data) {
        setRemaining(data.remaining);
        status(message("Confirmed", { id: ticket.id, category: data.category.name }));
        return true;
      })
      .catch(function (error) {
        history.splice(history.indexOf(entry), 1);
        status(message("Error", { error: error.message }));
        return false;
      });
  }

  // Selection: x marks the ticket on screen (as its first suggestion); the side card confirms them all.
  var selection = el("selection");
  var selectedConfirm = selection.querySelector("[data-selected-confirm]");
  var selectedClear = selection.querySelector("[data-selected-clear]");
  var selectedCountText = el("selected-count").textContent;

  function showSelection() {
    var count = Object.keys(selected).length;
    el("selected-count").textContent = count ? message("SelectedCount", { count: count }) : selectedCountText;
    selectedConfirm.disabled = selectedClear.disabled = count === 0;
    var ticket = tickets[index];
    el("selected-mark").hidden = !(ticket && selected[ticket.id]);
  }

  function toggleSelected() {
    var ticket = tickets[index];
    if (!ticket || !ticket.suggestions.length) return;
    if (selected[ticket.id]) delete selected[ticket.id];
    else selected[ticket.id] = ticket.suggestions[0].code;
    showSelection();
  }

  selectedClear.addEventListener("click", function () { selected = {}; showSelection(); });
  selectedConfirm.addEventListener("click", function () {
    var sending = selected;
    if (!Object.keys(sending).length || busy) return;
    selectedConfirm.disabled = true;
    request("POST", root.dataset.selectedUrl, { confirmations: sending })
      .then(function (data) {
        var gone = {};
        data.ids.concat(data.skipped).forEach(function (id) { gone[id] = true; sent[id] = true; delete selected[id]; });
        var current = tickets[index];
        tickets = tickets.filter(function (t) { return !gone[t.id]; });
        var at = current ? tickets.indexOf(current) : -1;
        renderedId = null;
        show(at >= 0 ? at : Math.max(0, Math.min(index, tickets.length - 1)));
        setRemaining(data.remaining);
        var text = message("SelectedDone", { count: data.confirmed });
        if (data.skipped.length) text += " " + message("SelectedSkipped", { count: data.skipped.length });
        el("selected-result").textContent = text;
        showSelection();
      })
      .catch(function (error) {
        el("selected-result").textContent = message("Error", { error: error.message });
        showSelection();
      });
  });

  function undo() {
    var last = history.pop();
    if (!last) { status(message("NothingToUndo")); return; }
    if (busy) { history.push(last); return; }
    busy = true;
    last.done
      .then(function (confirmed) {
        if (!confirmed) return;
        return request("POST", urlFor(root.dataset.undoUrl, last.ticket.id), {}).then(function (data) {
          delete sent[last.ticket.id];
          tickets.splice(index, 0, data.ticket);
          setRemaining(data.remaining);
          renderedId = null;
          show(index);
          status(message("Undone", { id: last.ticket.id }));
        });
      })
      .catch(function (error) { status(message("Error", { error: error.message })); })
      .then(function () { busy = false; });
  }

  function categoryButtons() { return Array.prototype.slice.call(allBox.querySelectorAll("[data-category]")); }

  function openAll() {
    if (!tickets[index]) return;
    allBox.hidden = false;
    categoryButtons()[0].focus();
  }

  function closeAll() {
    allBox.hidden = true;
    ticketBox.focus();
  }

  ticketBox.tabIndex = -1;

  allBox.addEventListener("keydown", function (event) {
    var buttons = categoryButtons();
    var at = buttons.indexOf(document.activeElement);
    if (event.key === "Escape") { event.preventDefault(); closeAll(); }
    else if (event.key === "ArrowDown" || event.key === "ArrowRight") { event.preventDefault(); buttons[(at + 1) % buttons.length].focus(); }
    else if (event.key === "ArrowUp" || event.key === "ArrowLeft") { event.preventDefault(); buttons[(at - 1 + buttons.length) % buttons.length].focus(); }
    else if (event.key === "Enter" && at >= 0) { event.preventDefault(); confirm(buttons[at].dataset.category); ticketBox.focus(); }
    event.stopPropagation();
  });

  root.addEventListener("click", function (event) {
    var chip = event.target.closest("[data-also-code]");
    if (chip) { setAlso(chip.dataset.alsoCode); return; }
    var button = event.target.closest("[data-category]");
    if (button && (allBox.contains(button) || el("suggestions").contains(button))) {
      confirm(button.dataset.category);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.closest && target.closest("input, select, textarea, [data-bulk]")) return;
    var ticket = tickets[index];
    var key = event.key;
    if (key === "1" || key === "2" || key === "3") {
      var suggestion = ticket && ticket.suggestions[Number(key) - 1];
      if (suggestion) confirm(suggestion.code);
    } else if (key === "Enter") {
      if (target.tagName === "A" || (target.tagName === "BUTTON" && !target.closest("[data-suggestions]"))) return;
      if (ticket && ticket.suggestions.length) confirm(ticket.suggestions[0].code);
    } else if (key === "c" || key === "/") {
      openAll();
    } else if (key === "j" || key === "ArrowDown" || key === "ArrowRight") {
      if (index < tickets.length - 1) show(index + 1);
    } else if (key === "k" || key === "ArrowUp" || key === "ArrowLeft") {
      if (index > 0) show(index - 1);
    } else if (key === "u") {
      undo();
    } else if (key === "x") {
      toggleSelected();
    } else {
      return;
    }
    event.preventDefault();
  });

  orderSelect.addEventListener("change", function () {
    var url = new URL(window.location.href);
    url.searchParams.set("order", orderSelect.value);
    window.history.replaceState(null, "", url.toString());
    tickets = [];
    exhausted = false;
    load().then(function () { show(0); orderSelect.blur(); });
  });

  // Bulk: preview the count, then confirm exactly that many (the server refuses if more appeared).
  var bulk = el("bulk");
  var bulkConfirm = bulk.querySelector("[data-bulk-confirm]");
  var previewed = null;
  function bulkValues() {
    return { category: bulk.elements.category.value, min_confidence: bulk.elements.min_confidence.value };
  }
  bulk.addEventListener("input", function () { previewed = null; bulkConfirm.disabled = true; });
  bulk.querySelector("[data-bulk-preview]").addEventListener("click", function () {
    request("GET", root.dataset.bulkUrl + "?" + new URLSearchParams(bulkValues()).toString())
      .then(function (data) {
        previewed = data.count;
        bulkConfirm.disabled = data.count === 0;
        el("bulk-result").textContent = message("Preview", { count: data.count });
      })
      .catch(function (error) { el("bulk-result").textContent = message("Error", { error: error.message }); });
  });
  bulkConfirm.addEventListener("click", function () {
    if (previewed === null) return;
    var values = bulkValues();
    request("POST", root.dataset.bulkUrl, { category: values.category, min_confidence: Number(values.min_confidence), expected: previewed })
      .then(function (data) {
        el("bulk-result").textContent = message("BulkDone", { count: data.confirmed });
        setRemaining(data.remaining);
        previewed = null;
        bulkConfirm.disabled = true;
        tickets = [];
        exhausted = false;
        return load().then(function () { show(0); });
      })
      .catch(function (error) { el("bulk-result").textContent = message("Error", { error: error.message }); });
  });

  load().then(function () { show(0); ticketBox.focus(); })
    .catch(function (error) { status(message("Error", { error: error.message })); });
})();
