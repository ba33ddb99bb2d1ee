/* The shop's scripts: the Buy flow on the shop page, the client's balance page, and the pages a payment ends on.
   Settings come from catalog.yaml through overrides/main.html; every request stays on this origin. */
(function () {
  "use strict";

  function settings() {
    var node = document.getElementById("bh-settings");
    return node ? JSON.parse(node.textContent) : { products: {}, currency: "usd" };
  }

  function orderId() {
    // The API derives Stripe's idempotency key from it: one id per order, however often it is sent.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function money(cents, currency) {
    var lang = document.documentElement.lang || "en";
    return new Intl.NumberFormat(lang, { style: "currency", currency: currency.toUpperCase() }).format(cents / 100);
  }

  function duration(minutes) {
    var hours = Math.floor(minutes / 60);
    var rest = minutes % 60;
    if (hours && rest) return hours + " h " + rest + " min";
    return hours ? hours + " h" : rest + " min";
  }

  // Dates as the shop keeps them (its time zone, from the API), wherever the client's device is, and written as the
  // emails and the statement's words write them (shop_time.calendar_day): 5 Feb 2027, then 21:00 for a time.
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function day(epochSeconds, withTime, timeZone) {
    var options = {
      year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    };
    var when = new Date(epochSeconds * 1000);
    var parts;
    try {
      var inZone = timeZone ? Object.assign({ timeZone: timeZone }, options) : options;
      parts = new Intl.DateTimeFormat("en-US", inZone).formatToParts(when);
    } catch (_) {
      parts = new Intl.DateTimeFormat("en-US", options).formatToParts(when); // a zone this browser does not know
    }
    var at = {};
    parts.forEach(function (part) { at[part.type] = part.value; });
    var text = Number(at.day) + " " + MONTHS[Number(at.month) - 1] + " " + at.year;
    return withTime ? text + ", " + at.hour + ":" + at.minute : text;
  }

  function sentence(text) {
    return text ? text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".") : "";
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch (_) {
      return null;
    }
  }

  /* ---- The shop page: Buy → email and agreement → POST /api/checkout → Stripe's hosted page ---- */

  function mountShop(config) {
    var dialog = document.getElementById("bh-order");
    var form = document.getElementById("bh-order-form");
    if (!dialog || !form) return;
    var email = form.querySelector("#bh-email");
    var agree = form.querySelector("#bh-agree");
    var pay = form.querySelector("#bh-pay");
    var message = form.querySelector("#bh-order-message");
    var order = { sku: null, id: null, busy: false };

    function say(text, kind) {
      message.textContent = text;
      message.className = "bh-message" + (kind ? " bh-message--" + kind : "");
    }

    function ready() {
      order.busy = false;
      pay.disabled = false;
      pay.removeAttribute("aria-busy");
    }

    function open(sku) {
      var product = config.products[sku];
      if (!product) return;
      order.sku = sku;
      order.id = orderId();
      ready();
      say("");
      var deposit = product.kind === "deposit";
      dialog.querySelector("#bh-order-title").textContent = deposit ? product.name : "Buy " + product.name;
      dialog.querySelector('[data-bh="price"]').textContent = product.price;
      pay.textContent = (deposit ? "Pay the deposit: " : "Buy for ") + product.price;
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", "");
      (email.value ? agree : email).focus();
    }

    function problems() {
      var missing = [];
      email.removeAttribute("aria-invalid");
      agree.removeAttribute("aria-invalid");
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.value.trim())) {
        missing.push("enter your email address (your receipt and balance link go there)");
        email.setAttribute("aria-invalid", "true");
      }
      if (!agree.checked) {
        missing.push("tick \u201cI agree to the client agreement (version " + config.termsVersion + ")\u201d");
        agree.setAttribute("aria-invalid", "true");
      }
      return missing;
    }

    function refusal(status, body) {
      if (body && body.error === "invalid_email") {
        var reason = /is not an email address: (.*?)\.*(?: Check it and send it again\.)?$/.exec(body.message || "");
        return "That email address was not accepted" + (reason ? ": " + reason[1] : "") + ". Check it and try again.";
      }
      if (body && body.message) return "The checkout could not start: " + sentence(body.message);
      if (status === 429) return "The shop is busy. Wait a few seconds and press the button again.";
      return (
        "The checkout could not start (error " + status + "). Nothing was charged; try again in a minute, " +
        "or write to " + config.shopEmail + "."
      );
    }

    async function submit(event) {
      event.preventDefault();
      if (order.busy || !order.sku) return;
      var missing = problems();
      if (missing.length) {
        say("Before buying, " + missing.join(" and ") + ".", "error");
        (email.getAttribute("aria-invalid") ? email : agree).focus();
        return;
      }
      order.busy = true;
      pay.disabled = true;
      pay.setAttribute("aria-busy", "true");
      say("Opening the secure checkout\u2026", "info");
      var body = {
        sku: order.sku,
        email: email.value.trim(),
        terms_version: config.termsVersion,
        terms_accepted: true,
        order_id: order.id,
      };
      try {
        var response = await fetch("/api/checkout", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(body),
        });
        var answer = await readJson(response);
        if (response.ok && answer && answer.url) {
          window.location.assign(answer.url);
          return;
        }
        // A refusal is final, so the next try is a new order; after a 5xx the same order may resume.
        if (response.status < 500) order.id = orderId();
        say(refusal(response.status, answer), "error");
      } catch (_) {
        say("The shop could not be reached. Check your connection and press the button again; nothing was charged.", "error");
      }
      ready();
    }

    document.querySelectorAll(".bh-buy[data-sku]").forEach(function (button) {
      button.addEventListener("click", function () { open(button.getAttribute("data-sku")); });
    });
    form.addEventListener("submit", submit);
    form.querySelector('[data-bh="close"]').addEventListener("click", function () { dialog.close(); });
    restore = ready;
  }

  var restore = null;
  // Back from Stripe's page restores this one from the cache, its button still disabled.
  window.addEventListener("pageshow", function (event) { if (event.persisted && restore) restore(); });

  /* ---- The balance page: the signed link's token → GET /api/balance → owed, on account, balance, statement ---- */

  var PROBLEMS = {
    missing_link: ["Open this page from your email", "Your balance is shown only through the personal link we email you after each purchase and session."],
    invalid_link: ["This link is not valid", "It may have been cut short or changed when it was copied. Open the link from your latest email exactly as sent, or ask us for a new one."],
    expired_link: ["This link has expired", "Balance links work for a limited time, to keep your account private. Ask us for a new link and we will email it to you."],
    unknown_customer: ["No purchases yet", "We have no purchases for this link. If you have just paid, wait a minute and reload this page."],
  };

  // Each cell names its column, which a phone shows beside the value when the table is stacked.
  function cell(row, text, className, label) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    if (label) td.setAttribute("data-label", label);
    row.appendChild(td);
    return td;
  }

  // The statement's signs: what comes in is +, what is used or sent back is − (the API gives them).
  function signed(value, format) {
    if (!value) return "";
    return (value > 0 ? "+" : "\u2212") + format(Math.abs(value));
  }

  function payLink(url, text) {
    var a = document.createElement("a");
    a.href = url;
    a.textContent = text;
    a.className = "md-button md-button--primary bh-pay";
    return a;
  }

  // What is owed, one row a debt: what it is for, how much, when we asked, by when, and its own pay link.
  function renderOwed(part, view, config) {
    var owed = view.owed || [];
    part("owed-area").hidden = owed.length === 0;
    if (!owed.length) return;
    var zone = view.time_zone;
    part("owed-total").textContent = money(view.owed_cents, view.currency);
    var hold = part("owed-hold");
    if (hold) hold.hidden = !view.on_hold;
    var payable = owed.filter(function (item) { return item.pay_url; });
    var now = part("pay-now");
    if (now) {
      // One link pays one debt: with several, "Pay now" goes to the list, where each has its own.
      now.href = payable.length === 1 && owed.length === 1 ? payable[0].pay_url : "#owed-list";
      now.hidden = payable.length === 0;
    }
    var rows = part("owed");
    rows.replaceChildren();
    owed.forEach(function (item) {
      var row = document.createElement("tr");
      cell(row, item.what, "", "For");
      cell(row, money(item.amount_cents, view.currency), "bh-number", "Amount");
      cell(row, day(item.sent_at, false, zone), "", "Sent");
      cell(row, item.on_hold ? "Overdue: sessions on hold" : item.due_at ? day(item.due_at, false, zone) : "Now", "", "Pay by");
      var pay = cell(row, "", "", "Pay");
      if (item.pay_url) pay.appendChild(payLink(item.pay_url, "Pay " + money(item.amount_cents, view.currency)));
      else pay.textContent = "Write to " + config.shopEmail;
      rows.appendChild(row);
    });
  }

  function renderOnAccount(part, view) {
    var on = view.on_account;
    part("on-account").hidden = !on;
    if (!on) return;
    part("unbilled").textContent = duration(on.unbilled_minutes);
    part("unbilled-amount").textContent = money(on.unbilled_cents, view.currency);
    part("next-bill-area").hidden = !on.next_bill_at;
    if (on.next_bill_at) part("next-bill").textContent = day(on.next_bill_at, false, view.time_zone);
    part("limit-left").textContent = duration(on.left_minutes);
    part("limit").textContent = duration(on.limit_minutes) + " limit";
  }

  function render(root, view, config) {
    var part = function (name) { return root.querySelector('[data-bh="' + name + '"]'); };
    var zone = view.time_zone;
    part("email").textContent = view.email;
    renderOwed(part, view, config);
    renderOnAccount(part, view);
    part("minutes").textContent = duration(view.balance_minutes);
    part("minutes-exact").textContent = view.balance_minutes >= 60 ? "(" + view.balance_minutes + " minutes)" : "";
    part("amount").textContent = money(view.balance_cents, view.currency);
    part("frozen").hidden = view.status !== "frozen";
    part("refund-due-area").hidden = !view.refund_due_at;
    if (view.refund_due_at) part("refund-due").textContent = day(view.refund_due_at, false, zone);
    part("top-up").hidden = !view.top_up;
    part("time-zone").textContent = zone ? "Dates and times are the shop\u2019s (" + zone + ")." : "";
    part("refund-area").hidden = !(view.balance_cents > 0 && view.status !== "frozen");

    var lots = part("lots");
    lots.replaceChildren();
    view.lots.forEach(function (lot) {
      var row = document.createElement("tr");
      cell(row, day(lot.created_at, false, zone), "", "Bought");
      cell(row, duration(lot.minutes), "", "Time");
      cell(row, money(lot.amount_cents, view.currency), "", "Paid");
      cell(row, duration(lot.remaining_minutes) + " \u00b7 " + money(lot.remaining_cents, view.currency), "", "Left");
      lots.appendChild(row);
    });

    var statement = part("statement");
    statement.replaceChildren();
    view.statement.forEach(function (entry) {
      var row = document.createElement("tr");
      cell(row, day(entry.at, true, zone), "bh-when", "Date");
      var what = cell(row, entry.words, "bh-what", "What");
      if (entry.note) {
        var note = document.createElement("span");
        note.className = "bh-note";
        note.textContent = entry.note;
        what.appendChild(note);
      }
      cell(row, signed(entry.minutes, duration), "bh-number", "Time");
      cell(row, signed(entry.amount_cents, function (c) { return money(c, view.currency); }), "bh-number", "Amount");
      statement.appendChild(row);
    });
    part("data").hidden = false;
  }

  function problem(root, code, status, body) {
    var known = PROBLEMS[code];
    var title = known ? known[0] : "We could not load your balance";
    var text = known ? known[1] : sentence((body && body.message) || "The shop answered with error " + status + ". Try again in a minute.");
    root.querySelector('[data-bh="problem-title"]').textContent = title;
    root.querySelector('[data-bh="problem-text"]').textContent = text;
    root.querySelector('[data-bh="problem"]').hidden = false;
    root.querySelector('[data-bh="data"]').hidden = true;
  }

  var REFUND_REFUSALS = {
    nothing_to_refund: "There is nothing left to refund: your balance is already used or on its way back to your card.",
    account_frozen: "Refunds are paused while a payment dispute is open on your account. Write to {shop} and we will sort it out.",
    busy: "Your balance was changing at that moment, so nothing was refunded. Press the button again.",
    invalid_link: "This link is not valid, so nothing was refunded. Open the link from your latest email exactly as sent.",
    expired_link: "This link has expired, so nothing was refunded. Ask us for a new link and we will email it to you.",
  };

  function refundRefusal(status, body, config) {
    var code = body && body.error;
    if (REFUND_REFUSALS[code]) return REFUND_REFUSALS[code].replace("{shop}", config.shopEmail);
    // below_minimum: the API's sentence names the amount, the minimum and that nothing is forfeited.
    if (body && body.message) return "No refund was made: " + sentence(body.message);
    if (status === 429) return "The shop is busy. Wait a few seconds and press the button again.";
    return (
      "We could not confirm your refund (error " + status + "). The balance on this page now shows whether it went " +
      "through; if it is still there, try again in a minute, or write to " + config.shopEmail + "."
    );
  }

  // Refund my unused balance → an inline "Refund $X to your card?" → POST /api/refunds → the answer in words.
  function mountRefund(root, token, config, latest, reload) {
    var part = function (name) { return root.querySelector('[data-bh="' + name + '"]'); };
    var button = part("refund");
    var confirm = part("refund-confirm");
    var yes = part("refund-yes");
    var message = part("refund-message");
    var state = { busy: false };

    function say(text, kind) {
      message.textContent = text;
      message.className = "bh-message" + (kind ? " bh-message--" + kind : "");
    }

    function close() {
      confirm.hidden = true;
      button.setAttribute("aria-expanded", "false");
    }

    function ask() {
      if (state.busy) return;
      // A second click on this button leaves the question open: it must never land on "Yes, refund".
      var view = latest.view;
      if (!view) return;
      part("refund-question").textContent = "Refund " + money(view.balance_cents, view.currency) + " to your card?";
      say("");
      confirm.hidden = false;
      button.setAttribute("aria-expanded", "true");
      part("refund-question").focus();
    }

    function busy(on) {
      state.busy = on;
      [button, yes].forEach(function (b) {
        b.disabled = on;
        if (on) b.setAttribute("aria-busy", "true");
        else b.removeAttribute("aria-busy");
      });
    }

    async function refund() {
      if (state.busy) return;
      busy(true);
      say("Asking for your refund\u2026", "info");
      var ok = false;
      try {
        var response = await fetch("/api/refunds", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ t: token }),
          cache: "no-store",
        });
        var answer = await readJson(response);
        ok = Boolean(response.ok && answer);
        if (ok) say(sentence(answer.message || "your refund is on its way back to your card"), "ok");
        else say(refundRefusal(response.status, answer, config), "error");
      } catch (_) {
        say("The shop could not be reached, so nothing was refunded. Check your connection and press the button again.", "error");
      }
      close();
      await reload();
      busy(false);
      if (ok) {
        message.focus();
        // The card refund is made a moment later; show it without a manual reload.
        window.setTimeout(function () { if (root.isConnected) reload(); }, 4000);
      }
    }

    button.addEventListener("click", ask);
    yes.addEventListener("click", refund);
    part("refund-cancel").addEventListener("click", function () {
      close();
      button.focus();
    });
  }

  // The view shown, or null after a problem (which the page then explains).
  async function loadBalance(root, token, config) {
    var status = root.querySelector('[data-bh="status"]');
    if (root.querySelector('[data-bh="data"]').hidden) status.hidden = false; // the first load; a reload keeps the page
    try {
      var response = await fetch("/api/balance?t=" + encodeURIComponent(token), {
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
      var body = await readJson(response);
      status.hidden = true;
      if (response.ok && body) {
        render(root, body, config);
        return body;
      }
      problem(root, body && body.error, response.status, body);
    } catch (_) {
      status.hidden = true;
      problem(root, null, 0, { message: "the shop could not be reached; check your connection and reload this page" });
    }
    return null;
  }

  async function mountBalance(config) {
    var root = document.querySelector("[data-bh-balance]");
    if (!root) return;
    var token = new URLSearchParams(window.location.search).get("t");
    if (!token) {
      root.querySelector('[data-bh="status"]').hidden = true;
      problem(root, "missing_link", 400, null);
      return;
    }
    var latest = { view: null };
    var reload = async function () { latest.view = await loadBalance(root, token, config); };
    mountRefund(root, token, config, latest, reload);
    await reload();
  }

  /* ---- The pages a payment ends on: ?session_id= → GET /api/checkouts/{id} → what was paid, what is still owed ---- */

  function the(what) {
    return "the " + what.charAt(0).toLowerCase() + what.slice(1);
  }

  function paidSummary(view) {
    var amount = money(view.amount_cents, view.currency);
    if (view.status === "unpaid") return "This payment has not gone through, so nothing was charged.";
    if (view.kind === "debt") {
      if (view.status === "processing") return "Your bank is still confirming your payment of " + amount + " for " + the(view.what) + "; we email you when it does.";
      return "We received " + amount + " for " + the(view.what) + ".";
    }
    var bought = (view.what === "Quote" ? "the quote" : the(view.what)) + (view.minutes ? " (" + duration(view.minutes) + ")" : "");
    if (view.status === "processing") return "Your bank is still confirming your payment of " + amount + " for " + bought + "; the time is added when it does.";
    return "You bought " + bought + " for " + amount + ".";
  }

  function renderPaid(root, view, config) {
    var part = function (name) { return root.querySelector('[data-bh="' + name + '"]'); };
    part("summary").textContent = paidSummary(view);
    var note = part("note-area");
    if (note) {
      note.hidden = !view.note;
      part("note").textContent = view.note || "";
    }
    var email = part("email-area");
    if (email) {
      email.hidden = !view.email || view.status === "unpaid";
      part("email").textContent = view.email || "";
    }
    var balance = part("balance-area");
    if (balance) {
      balance.hidden = !view.balance_url;
      if (view.balance_url) part("balance-link").href = view.balance_url;
    }
    if (part("owed-area")) {
      renderOwed(part, view, config);
      part("square").hidden = Boolean((view.owed || []).length) || view.status !== "paid";
    }
    part("fallback").hidden = true;
    part("data").hidden = false;
  }

  async function mountPaid(config) {
    var root = document.querySelector("[data-bh-paid]");
    if (!root) return;
    var id = new URLSearchParams(window.location.search).get("session_id");
    if (!id) return; // the general words stay: nothing names the payment
    var status = root.querySelector('[data-bh="status"]');
    status.hidden = false;
    try {
      var response = await fetch("/api/checkouts/" + encodeURIComponent(id), {
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
      var body = await readJson(response);
      if (response.ok && body) renderPaid(root, body, config);
    } catch (_) {
      // The general words stay: the payment is safe, and the receipt says what it was.
    }
    status.hidden = true;
  }

  function mount() {
    var config = settings();
    mountShop(config);
    mountBalance(config);
    mountPaid(config);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
})();
