// Small progressive enhancements for the agents' pages. Every page works without this file.
(function () {
  "use strict";

  // Phones: the top navigation folds behind a menu button (app.css shows the button below 600 px).
  var menuToggle = document.querySelector("[data-menu-toggle]");
  var topbar = menuToggle && menuToggle.closest(".topbar");
  if (topbar) {
    var setMenu = function (open) {
      topbar.classList.toggle("is-open", open);
      menuToggle.setAttribute("aria-expanded", open ? "true" : "false");
    };
    topbar.classList.add("has-menu");
    menuToggle.hidden = false;
    menuToggle.addEventListener("click", function () { setMenu(!topbar.classList.contains("is-open")); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && topbar.classList.contains("is-open")) { setMenu(false); menuToggle.focus(); }
    });
  }

  // Character counter for textareas with data-counter-max (the service enforces the limit).
  document.querySelectorAll("textarea[data-counter-max]").forEach(function (textarea) {
    var counter = document.querySelector('[data-counter-for="' + textarea.id + '"]');
    if (!counter) return;
    var max = parseInt(textarea.dataset.counterMax, 10);
    var update = function () {
      // Count code points, as the server does (an emoji is one character, not two).
      var length = Array.from(textarea.value.trim()).length;
      counter.textContent = length + " / " + max;
      counter.classList.toggle("is-over", length > max);
    };
    textarea.addEventListener("input", update);
    update();
  });

  // Ctrl+Enter (Cmd+Enter on a Mac) saves the form the textarea belongs to.
  document.querySelectorAll("form textarea").forEach(function (textarea) {
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && textarea.form) {
        event.preventDefault();
        textarea.form.requestSubmit();
      }
    });
  });

  // Once the agent edits a field the server flagged, drop its stale error.
  document.querySelectorAll(".field.has-error").forEach(function (field) {
    field.addEventListener("input", function () {
      field.classList.remove("has-error");
      field.querySelectorAll(".field__error").forEach(function (error) { error.hidden = true; });
    }, { once: true });
  });

  // Product autocomplete: fill the input's <datalist> from the JSON search endpoint.
  document.querySelectorAll("input[data-product-search]").forEach(function (input) {
    var url = input.dataset.productSearch;
    var list = document.getElementById(input.getAttribute("list"));
    if (!url || !list) return;
    var timer = null;
    var lastQuery = null;
    var controller = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var query = input.value.trim();
        if (!query || query === lastQuery) return;
        // The input shows the chosen SKU once an option is picked: no need to search again.
        for (var i = 0; i < list.options.length; i++) {
          if (list.options[i].value === query) return;
        }
        lastQuery = query;
        if (controller) controller.abort();
        controller = new AbortController();
        fetch(url + "?q=" + encodeURIComponent(query), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          signal: controller.signal,
        })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) {
            list.replaceChildren();
            data.results.forEach(function (product) {
              var option = document.createElement("option");
              option.value = product.sku;
              option.label = product.name + " · " + product.product_category;
              list.appendChild(option);
            });
          })
          .catch(function () { /* aborted or offline: keep the free-text input */ });
      }, 180);
    });
  });
  // Bar widths come from data-width: the Content-Security-Policy forbids style attributes in markup.
  document.querySelectorAll("[data-width]").forEach(function (bar) { bar.style.width = bar.dataset.width; });

  // Filters that apply as soon as a choice is made (no inline onchange: the CSP forbids it).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { if (select.form) select.form.submit(); });
  });

  // Live ticket page: while the worker has not classified the ticket, ask every few seconds; once
  // it has, swap in the server-rendered header and cards (no manual reload, no second template).
  var live = document.querySelector("[data-ticket-live]");
  if (live) {
    var liveDelay = parseInt(live.dataset.pollMs || "2000", 10);
    var liveUrl = live.dataset.ticketLive;
    var pollTicket = function () {
      fetch(liveUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data || data.triage_status === "pending") {
            liveDelay = Math.min(liveDelay * 1.25, 15000);
            setTimeout(pollTicket, liveDelay);
            return;
          }
          return fetch(window.location.href, { credentials: "same-origin" })
            .then(function (response) { return response.text(); })
            .then(function (html) {
              var fresh = new DOMParser().parseFromString(html, "text/html");
              [".page-header", ".layout-detail"].forEach(function (selector) {
                var current = document.querySelector(selector);
                var next = fresh.querySelector(selector);
                if (current && next) current.replaceWith(document.importNode(next, true));
              });
            });
        })
        .catch(function () { setTimeout(pollTicket, 15000); });
    };
    setTimeout(pollTicket, liveDelay);
  }

  // Navigation badges (待确认, 通知): refresh every 30 s while the tab is visible, and on return to it.
  var nav = document.querySelector("[data-live-counts]");
  if (nav) {
    var setBadge = function (selector, count) {
      document.querySelectorAll(selector).forEach(function (badge) {
        badge.textContent = count;
        badge.hidden = !count;
      });
    };
    var refreshCounts = function () {
      if (document.hidden) return;
      fetch(nav.dataset.liveCounts, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return;
          setBadge("[data-review-count]", data.needs_review);
          setBadge("[data-unread-count]", data.unread_notifications);
        })
        .catch(function () { /* offline: keep the last counts */ });
    };
    setInterval(refreshCounts, parseInt(nav.dataset.pollMs || "30000", 10));
    window.addEventListener("focus", refreshCounts);
    document.addEventListener("visibilitychange", refreshCounts);
  }
})();
