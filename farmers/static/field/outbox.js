/* Outbox of the field pages: records made on the phone wait in IndexedDB until they reach the
 * registry through the partner API (session-authenticated, CSRF-protected).
 *
 * Each record keeps the id generated on the phone, so a retried sync can never create a second
 * household, visit or plot (the API answers 200 with the existing one). Status per record:
 *   pending  → waiting for connection (network errors and 5xx leave it pending)
 *   sent     → the registry accepted it (201, or 200 on a retry)
 *   error    → the registry refused it (4xx): its field-level messages are kept and shown
 * Nothing is deleted automatically except records already sent, after a day.
 *
 * A record may need others of the phone on the server first (``after``: the ids of a household
 * registered offline, of plots captured offline): it is sent only once they are sent, so a
 * household, its plot and its visit go in that order, each exactly once. Until then it stays
 * pending with ``waiting`` set.
 */
(function () {
  "use strict";

  var DB_NAME = "registro-campo";
  var STORE = "outbox";
  var SENT_KEEP_MS = 24 * 3600 * 1000;
  var dbPromise = null;
  var syncing = null;
  var listeners = [];

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          var store = request.result.createObjectStore(STORE, { keyPath: "id" });
          store.createIndex("status", "status");
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }

  function tx(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var store = transaction.objectStore(STORE);
        var result = work(store);
        transaction.oncomplete = function () {
          resolve(result && "result" in result ? result.result : result);
        };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  function all() {
    return tx("readonly", function (store) { return store.getAll(); }).then(function (rows) {
      return (rows || []).sort(function (a, b) { return a.created < b.created ? -1 : 1; });
    });
  }

  function put(record) {
    return tx("readwrite", function (store) { store.put(record); }).then(notify);
  }

  function remove(id) {
    return tx("readwrite", function (store) { store["delete"](id); }).then(notify);
  }

  function get(id) {
    return tx("readonly", function (store) { return store.get(id); });
  }

  function notify() {
    return all().then(function (rows) {
      listeners.forEach(function (listener) { listener(rows); });
      return rows;
    });
  }

  /* A random UUID (version 4), also where crypto.randomUUID is missing (plain http). */
  function uuid4() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); });
    return hex.slice(0, 4).join("") + "-" + hex.slice(4, 6).join("") + "-" +
      hex.slice(6, 8).join("") + "-" + hex.slice(8, 10).join("") + "-" + hex.slice(10).join("");
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function headers(json) {
    var h = {
      "X-CSRFToken": csrfToken(),
      "Accept": "application/json",
      "Accept-Language": document.body.getAttribute("data-lang") || "es"
    };
    if (json) { h["Content-Type"] = "application/json"; }
    return h;
  }

  /* Queue a record: {kind, url, payload, label, labels: {attr: label}, after: [ids],
   * files: [{url, field, blob, name, params}]} */
  function add(record) {
    record.id = record.payload.id || uuid4();
    record.payload.id = record.id;
    record.status = "pending";
    record.errors = [];
    record.created = new Date().toISOString();
    record.files = record.files || [];
    record.after = record.after || [];
    return put(record).then(function () { return record; });
  }

  function errorsOf(status, body) {
    if (body && body.errors && body.errors.length) { return body.errors; }
    return [{ code: "http_" + status, detail: "HTTP " + status, attr: null }];
  }

  /* Send one record; resolves to its new state. Network failures keep it pending. */
  function sendOne(record) {
    var step;
    if (record.status === "sent") {
      step = Promise.resolve({ ok: true });
    } else {
      step = fetch(record.url, {
        method: "POST",
        credentials: "same-origin",
        headers: headers(true),
        body: JSON.stringify(record.payload)
      }).then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          return { response: response, body: body };
        });
      });
    }
    return step.then(function (result) {
      if (result.response) {
        var status = result.response.status;
        if (status >= 500 || status === 429) { return record; }
        if (status === 401) {
          // Signed out (session expired): kept pending, sent again after signing in.
          record.auth = true;
          return put(record).then(function () { return record; });
        }
        record.auth = false;
        if (!result.response.ok) {
          record.status = "error";
          record.errors = errorsOf(status, result.body);
          return put(record).then(function () { return record; });
        }
        record.result = result.body || {};
      }
      return sendFiles(record);
    }, function () {
      return record; // offline or the connection dropped: stays pending, retried later
    });
  }

  /* Attachments (a visit's photo) go after their record; each is sent once. */
  function sendFiles(record) {
    var waiting = record.files.filter(function (f) { return !f.sent; });
    var chain = Promise.resolve(true);
    waiting.forEach(function (file) {
      chain = chain.then(function (ok) {
        if (!ok) { return false; }
        var form = new FormData();
        Object.keys(file.params || {}).forEach(function (key) { form.append(key, file.params[key]); });
        form.append(file.field, file.blob, file.name || "foto.jpg");
        return fetch(file.url.replace("{id}", record.id), {
          method: "POST", credentials: "same-origin", headers: headers(false), body: form
        }).then(function (response) {
          if (response.ok) { file.sent = true; return true; }
          if (response.status >= 500) { return false; }
          return response.json().catch(function () { return null; }).then(function (body) {
            file.sent = true; // refused: keep the message, do not resend the same file
            file.errors = errorsOf(response.status, body);
            return true;
          });
        }, function () { return false; });
      });
    });
    return chain.then(function (ok) {
      var fileErrors = [];
      record.files.forEach(function (f) { fileErrors = fileErrors.concat(f.errors || []); });
      record.status = ok ? "sent" : "pending";
      if (ok) { record.sentAt = new Date().toISOString(); }
      record.errors = fileErrors;
      record.files.forEach(function (f) { if (f.sent) { f.blob = null; } });
      return put(record).then(function () { return record; });
    });
  }

  /* Send the record once every record it needs is sent (those no longer on the phone were sent
   * and dropped); otherwise keep it pending and say what it waits for. */
  function sendAfter(record) {
    var needs = record.after || [];
    return Promise.all(needs.map(get)).then(function (found) {
      var waiting = found.some(function (other) { return other && other.status !== "sent"; });
      if (waiting) {
        if (record.waiting) { return record; }
        record.waiting = true;
        return put(record).then(function () { return record; });
      }
      record.waiting = false;
      return sendOne(record);
    });
  }

  /* Send every pending record, one at a time, oldest first. Concurrent calls share one run. */
  function sync() {
    if (syncing) { return syncing; }
    if (navigator.onLine === false) { return notify(); }
    syncing = all().then(function (rows) {
      var now = Date.now();
      var chain = Promise.resolve();
      rows.forEach(function (record) {
        if (record.status === "sent" && now - Date.parse(record.sentAt || record.created) > SENT_KEEP_MS) {
          chain = chain.then(function () { return remove(record.id); });
        } else if (record.status === "pending") {
          chain = chain.then(function () { return sendAfter(record); });
        }
      });
      return chain;
    }).then(notify, notify).then(function (rows) {
      syncing = null;
      return rows;
    }, function (error) {
      syncing = null;
      throw error;
    });
    return syncing;
  }

  /* An errored record goes back to pending (after the officer fixed it, or to retry). */
  function retry(id, payload) {
    return get(id).then(function (record) {
      if (!record) { return null; }
      if (payload) { record.payload = payload; }
      record.status = "pending";
      record.errors = [];
      record.auth = false;
      return put(record).then(sync);
    });
  }

  function onChange(listener) {
    listeners.push(listener);
    notify();
  }

  window.addEventListener("online", function () { sync(); });

  window.FieldOutbox = {
    add: add, all: all, get: get, remove: remove, retry: retry, sync: sync,
    onChange: onChange, uuid4: uuid4, csrfToken: csrfToken
  };
})();
