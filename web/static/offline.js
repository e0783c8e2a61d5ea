// Offline filing: without a network a report (its fields, photos and Idempotency-Key) is kept in IndexedDB,
// listed as waiting to send, and sent when the network returns. The key makes a resend file nothing twice.
// Online, the report is sent by fetch: a network error (the browser thought it was online, the server or a
// gateway is away) keeps it in the queue too, with the key it was sent with, so a send that did reach the
// server files nothing more. Any other answer but success is shown as the page the server makes of it.
(function () {
  "use strict";
  if ("serviceWorker" in navigator) { navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {}); }
  var form = document.querySelector("form[data-offline-queue]");
  var box = document.getElementById("outbox"), list = document.getElementById("outbox-items");
  if (!form || !window.indexedDB || !box) { return; }
  var texts = document.getElementById("outbox-texts").dataset;
  var STORE = "reports", sent = [], sending = false;

  function open() {
    return new Promise(function (ok, fail) {
      var request = indexedDB.open("gridflow-outbox", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "key" }); };
      request.onsuccess = function () { ok(request.result); };
      request.onerror = function () { fail(request.error); };
    });
  }
  function store(mode, work) {
    return open().then(function (db) {
      return new Promise(function (ok, fail) {
        var tx = db.transaction(STORE, mode), request = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); ok(request && request.result); };
        tx.onerror = function () { db.close(); fail(tx.error); };
      });
    });
  }
  function all() { return store("readonly", function (s) { return s.getAll(); }); }
  function keep(item) { return store("readwrite", function (s) { return s.put(item); }); }
  function forget(key) { return store("readwrite", function (s) { return s.delete(key); }); }

  function newKey() {
    var key = window.crypto && crypto.randomUUID ? crypto.randomUUID().replace(/-/g, "")
      : Date.now().toString(16) + Math.random().toString(16).slice(2);
    form.elements.idempotency_key.value = key;
  }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function render() {
    return all().then(function (items) {
      list.textContent = "";
      items.sort(function (a, b) { return a.at - b.at; }).forEach(function (item) {
        var li = document.createElement("li"), state = texts.pending;
        if (item.state === "failed") { state = fill(texts.failed, { why: item.why || "" }); }
        if (item.state === "signin") { state = texts.signin; }
        li.textContent = item.fields.title + " · " + state +
          (item.photos.length ? " · " + fill(texts.photos, { count: item.photos.length }) : "");
        li.dataset.state = item.state;
        list.appendChild(li);
      });
      sent.forEach(function (done) {
        var li = document.createElement("li");
        li.textContent = done.title + " · " + fill(texts.sent, { number: done.number });
        li.dataset.state = "sent";
        list.appendChild(li);
      });
      box.hidden = items.length === 0 && sent.length === 0;
    });
  }

  function send(item, csrf) {
    var body = new FormData();
    Object.keys(item.fields).forEach(function (name) { body.append(name, item.fields[name]); });
    body.set("csrf_token", csrf);
    item.photos.forEach(function (photo) { body.append("photos", photo.blob, photo.name); });
    return fetch(form.dataset.offlineQueue, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.status === 201) {
          sent.push({ title: item.fields.title, number: answer.number });
          return forget(item.key);
        }
        if (response.status === 401 || response.status === 400) { item.state = "signin"; return keep(item); }
        if (response.status === 422 || response.status === 409) {
          var why = [answer.message].concat(Object.keys(answer.errors || {}).map(function (k) { return answer.errors[k].join(" "); }));
          item.state = "failed";
          item.why = why.filter(Boolean).join(" ");
          return keep(item);
        }
        throw new Error("server " + response.status);  // keep it waiting; try again later
      });
    });
  }

  function flush() {
    if (sending || !navigator.onLine) { return Promise.resolve(); }
    sending = true;
    return all().then(function (items) {
      var waiting = items.filter(function (item) { return item.state !== "failed"; });
      if (!waiting.length) { return; }
      return fetch("/session/csrf", { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            return Promise.all(waiting.map(function (item) { item.state = "signin"; return keep(item); }));
          }
          return response.json().then(function (answer) {
            return waiting.reduce(function (done, item) {
              return done.then(function () { return send(item, answer.csrf_token); });
            }, Promise.resolve());
          });
        });
    }).catch(function () { /* still offline or the server is away: the items wait */ })
      .then(function () { sending = false; return render(); });
  }

  function queue() {
    if (!form.checkValidity()) { form.reportValidity(); return Promise.resolve(); }
    var item = { key: form.elements.idempotency_key.value, fields: {}, photos: [], at: Date.now(), state: "pending" };
    new FormData(form).forEach(function (value, name) {
      if (value instanceof File) {
        if (value.size) { item.photos.push({ name: value.name, type: value.type, blob: value }); }
      } else if (name !== "csrf_token") {
        item.fields[name] = value;
      }
    });
    return keep(item).then(function () {
      form.reset();
      newKey();
      return render();
    }).then(function () {
      var status = document.createElement("p");
      status.className = "notice";
      status.setAttribute("role", "status");
      status.textContent = texts.queued;
      box.insertBefore(status, list);
    });
  }

  function post(button) {
    if (button) { button.disabled = true; }  // a double tap would send the same key anyway
    return fetch(form.dataset.offlineQueue, {
      method: "POST", body: new FormData(form), credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 201) { return response.json().then(function (answer) { location.assign(answer.url); }); }
      if (response.status >= 502 && response.status <= 504) { return queue(); }  // a gateway without its server
      form.submit();  // the server's page says what is wrong (errors beside their fields, signed out ...)
    }, queue).then(function () { if (button) { button.disabled = false; } });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (navigator.onLine) { post(event.submitter); } else { queue(); }
  });

  newKey();  // a page from the cache holds the key it was cached with: each page load gets its own
  window.addEventListener("online", flush);
  render().then(flush);
})();
