/* Field pages: connection status, service worker, the outbox list, and the forms (wizard,
 * members, duplicate warnings, GPS, walking a boundary, boundary files). Forms are saved in the
 * phone's outbox first and sent through the partner API (see outbox.js); without JavaScript they
 * post to the page, which calls the same services. Texts come translated from the page. */
(function () {
  "use strict";

  var T = (document.getElementById("field-i18n") || { dataset: {} }).dataset;
  var Outbox = window.FieldOutbox;

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (cls) { el.className = cls; }
    return el;
  }

  /* --- connection status and service worker ------------------------------------------------ */
  function showNet() {
    var el = document.getElementById("net-status");
    if (!el) { return; }
    var online = navigator.onLine !== false;
    el.textContent = online ? el.getAttribute("data-online") : el.getAttribute("data-offline");
    el.className = "net " + (online ? "on" : "off");
  }
  window.addEventListener("online", showNet);
  window.addEventListener("offline", showNet);
  showNet();

  if ("serviceWorker" in navigator && document.body.getAttribute("data-sw")) {
    navigator.serviceWorker.register(document.body.getAttribute("data-sw"), {
      scope: document.body.getAttribute("data-scope")
    })["catch"](function () { /* pages still work online */ });
    if (document.body.hasAttribute("data-signed-in") && navigator.onLine !== false) {
      navigator.serviceWorker.ready.then(function (registration) {
        if (registration.active) {
          registration.active.postMessage({ type: "warm" });
          if (!window.location.search) {
            registration.active.postMessage({ type: "page", url: window.location.pathname });
          }
        }
      });
    }
  }

  /* Signing out forgets the cached pages (they hold the officer's households); records still
   * waiting in the outbox are kept and sent after the next sign-in. */
  $$("form[data-logout]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.caches) { return; }
      event.preventDefault();
      caches.keys().then(function (keys) {
        return Promise.all(keys.filter(function (key) { return key.indexOf("campo-") === 0; })
          .map(function (key) { return caches["delete"](key); }));
      })["catch"](function () {}).then(function () { form.submit(); });
    });
  });

  /* --- the outbox list --------------------------------------------------------------------- */
  var KIND_LABEL = { household: T.household, visit: T.visit, plot: T.plot };
  var STATUS_LABEL = { pending: T.pending, sent: T.sent, error: T.error };

  function errorLine(record, error) {
    var label = error.attr && record.labels && record.labels[error.attr];
    return (label ? label + ": " : "") + error.detail;
  }

  function renderOutbox(rows) {
    $$("[data-outbox-count]").forEach(function (el) {
      el.textContent = rows.filter(function (r) { return r.status !== "sent"; }).length;
    });
    $$("[data-outbox-list]").forEach(function (list) {
      list.textContent = "";
      if (!rows.length) { list.appendChild(text("li", T.empty, "muted")); return; }
      rows.slice().reverse().forEach(function (record) {
        var li = document.createElement("li");
        li.className = "ob-" + record.status;
        li.setAttribute("data-record", record.id);
        li.setAttribute("data-status", record.status);
        var head = document.createElement("div");
        head.appendChild(text("strong", (record.kindLabel || KIND_LABEL[record.kind] || record.kind) + " · " + (record.label || "")));
        head.appendChild(text("span", STATUS_LABEL[record.status] || record.status, "tag st-" + record.status));
        li.appendChild(head);
        if (record.status === "sent") {
          var href = record.kind === "household"
            ? (document.body.getAttribute("data-scope") || "/campo/") + "hogares/" + record.id + "/"
            : record.link;
          if (href) {
            var link = text("a", (record.result && record.result.code) || T.open);
            link.href = href;
            li.appendChild(link);
          }
        }
        if (record.auth) { li.appendChild(text("p", T.signin, "err")); }
        if (record.status === "pending" && record.waiting) { li.appendChild(text("p", T.waitingFor, "muted")); }
        if (record.kind === "household" && record.status !== "sent") {
          // What was registered offline can be used offline: its plots and visits are queued
          // now and sent after it.
          var scope = document.body.getAttribute("data-scope") || "/campo/";
          var more = document.createElement("div");
          more.className = "row";
          [["sin-enviar/parcela/", T.addPlot], ["sin-enviar/visita/", T.addVisit]].forEach(function (pair) {
            var a = text("a", pair[1], "button small");
            a.href = scope + pair[0] + "?hogar=" + encodeURIComponent(record.id);
            a.setAttribute("data-pending-action", pair[0]);
            more.appendChild(a);
          });
          li.appendChild(more);
        }
        if (record.errors && record.errors.length) {
          var ul = document.createElement("ul");
          ul.className = "errs";
          record.errors.forEach(function (error) { ul.appendChild(text("li", errorLine(record, error), "err")); });
          li.appendChild(ul);
        }
        if (record.status === "error") {
          var actions = document.createElement("div");
          actions.className = "row";
          if (record.editUrl) {
            var fix = text("a", T.edit, "button small");
            fix.href = record.editUrl + (record.editUrl.indexOf("?") >= 0 ? "&" : "?") + "borrador=" + record.id;
            actions.appendChild(fix);
          }
          var again = text("button", T.retry, "small secondary");
          again.type = "button";
          again.addEventListener("click", function () { Outbox.retry(record.id); });
          actions.appendChild(again);
          var discard = text("button", T.discard, "small danger");
          discard.type = "button";
          discard.addEventListener("click", function () {
            if (window.confirm(T.confirmDiscard)) { Outbox.remove(record.id); }
          });
          actions.appendChild(discard);
          li.appendChild(actions);
        }
        list.appendChild(li);
      });
    });
  }

  if (Outbox) {
    Outbox.onChange(renderOutbox);
    $$("[data-outbox-sync]").forEach(function (button) {
      button.addEventListener("click", function () { Outbox.sync(); });
    });
    Outbox.sync();
  }

  /* --- forms: payload from dotted field names ---------------------------------------------- */
  function setPath(root, path, value) {
    var parts = path.split(".");
    var node = root;
    for (var i = 0; i < parts.length - 1; i++) {
      if (!(parts[i] in node)) { node[parts[i]] = {}; }
      node = node[parts[i]];
    }
    node[parts[parts.length - 1]] = value;
  }

  function isEmpty(value) {
    if (value === "" || value === null || value === undefined) { return true; }
    if (Array.isArray(value)) { return false; }
    if (typeof value === "object") {
      return Object.keys(value).every(function (k) { return isEmpty(value[k]); });
    }
    return false;
  }

  function tidy(value, top) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      var keys = Object.keys(value);
      if (keys.length && keys.every(function (k) { return /^\d+$/.test(k); })) {
        return keys.sort(function (a, b) { return a - b; }).map(function (k) { return tidy(value[k]); })
          .filter(function (item) { return !isEmpty(item); });
      }
      var out = {};
      keys.forEach(function (k) {
        var v = tidy(value[k]);
        if (!top && isEmpty(v)) { return; }
        if (top && v && typeof v === "object" && !Array.isArray(v) && isEmpty(v)) { return; }
        out[k] = v;
      });
      return out;
    }
    return value;
  }

  /* A number as people type it in Peru (registry.cleaning.typed_number): "1,5" → "1.5",
   * "13 000,50" → "13000.50"; anything else unchanged (the registry says what is wrong). */
  function typedNumber(value) {
    var compact = value.replace(/[\s\u00a0]/g, "");
    if (compact.indexOf(",") >= 0 && compact.indexOf(".") < 0 && compact.split(",").length === 2) {
      return compact.replace(",", ".");
    }
    return compact;
  }

  /* Hectares as the pages show them: two decimals, the page's decimal separator (0,25 ha). */
  function showHectares(value) {
    return value.toFixed(2).replace(".", T.decimal || ",") + " ha";
  }

  function labelOf(form, el) {
    var label = el.id && form.querySelector("label[for='" + el.id.replace(/'/g, "\\'") + "']");
    // A field without a visible label names itself (data-field-label); never its key.
    var textValue = label ? label.textContent.trim() : (el.getAttribute("data-field-label") || "");
    var member = el.closest("[data-member]");
    if (member) {
      textValue = T.member + " " + (parseInt(member.getAttribute("data-member"), 10) + 1) + " · " + textValue;
    }
    return textValue;
  }

  function formPayload(form) {
    var payload = {};
    var labels = {};
    var multi = {};
    $$("input, select, textarea", form).forEach(function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.type === "file" || el.disabled) { return; }
      if (el.closest("template")) { return; }
      labels[el.name] = labelOf(form, el);
      if (el.type === "checkbox") {
        multi[el.name] = multi[el.name] || [];
        if (el.checked) { multi[el.name].push(el.value); }
        return;
      }
      var value = el.value.trim();
      if (el.getAttribute("inputmode") === "decimal") { value = typedNumber(value); }
      if (el.hasAttribute("data-geometry")) { value = value ? JSON.parse(value) : null; }
      if (/^location\.(lat|lon)$/.test(el.name) && value !== "") { value = Number(value); }
      setPath(payload, el.name, value);
    });
    Object.keys(multi).forEach(function (name) {
      setPath(payload, name, multi[name]);
      labels[name] = (form.querySelector("[name='" + name + "']").closest("fieldset").querySelector("legend") || {}).textContent || name;
    });
    payload = tidy(payload, true);
    if (payload.geometry === null) { delete payload.geometry; }
    return { payload: payload, labels: labels };
  }

  function clearErrors(form) {
    $$("[data-error-for], .err.js", form).forEach(function (el) { el.remove(); });
    var box = $("[data-form-errors]", form);
    if (box) { box.hidden = true; $$("p", box).forEach(function (p) { p.remove(); }); }
  }

  function showErrors(form, record) {
    clearErrors(form);
    var box = $("[data-form-errors]", form);
    var firstStep = null;
    (record.errors || []).forEach(function (error) {
      var field = error.attr && form.querySelector("[name='" + error.attr + "']");
      // A field made of several inputs (plots ticked, the GPS point, the crops) names the
      // element its errors go in: data-error-anchor="plots" (the API's error path).
      var anchor = error.attr && form.querySelector("[data-error-anchor='" + error.attr + "']");
      var message = text("p", error.detail, "err js");
      message.setAttribute("data-error-for", error.attr || "");
      if (anchor) {
        anchor.appendChild(message);
        var step0 = anchor.closest("[data-step]");
        if (step0 && !firstStep) { firstStep = step0; }
      } else if (field && field.type !== "hidden") {
        (field.closest(".field") || field.parentNode).appendChild(message);
        field.setAttribute("aria-invalid", "true");
        var step = field.closest("[data-step]");
        if (step && !firstStep) { firstStep = step; }
      } else if (box) {
        message.textContent = errorLine(record, error);
        box.appendChild(message);
      }
    });
    if (box) { box.hidden = false; }
    if (firstStep) { showStep(form, firstStep.getAttribute("data-step")); }
    if (box) { box.scrollIntoView({ block: "start" }); }
  }

  function notice(form, message) {
    var el = $("[data-saved-notice]", form);
    if (el) { el.textContent = message; el.hidden = false; }
  }

  function freshId(form) {
    var input = $("[data-client-id]", form);
    if (input) { input.value = Outbox.uuid4(); }
  }

  function resetForm(form) {
    var keep = {};
    $$("[data-keep], [name=household], [name=program], [name=district]", form).forEach(function (el) { keep[el.name] = el.value; });
    form.reset();
    Object.keys(keep).forEach(function (name) { form.querySelector("[name='" + name + "']").value = keep[name]; });
    var members = $("[data-members]", form);
    if (members) {
      $$("[data-member]", members).forEach(function (block, index) { if (index > 0) { block.remove(); } });
      $$("[data-dedup-result]", form).forEach(function (el) { el.textContent = ""; });
    }
    $$("[aria-invalid]", form).forEach(function (el) { el.removeAttribute("aria-invalid"); });
    freshId(form);
    if (form._map) { form._map.clear(); }
    if ($("[data-step]", form)) { showStep(form, "1"); }
  }

  function photoFiles(form) {
    var files = [];
    $$("input[type=file][data-file]", form).forEach(function (input) {
      if (input.files && input.files[0]) {
        // data-file-params="type=doc_type": extra multipart fields sent with the file, taken
        // from the form's fields when the record is queued.
        var params = {};
        (input.getAttribute("data-file-params") || "").split(",").forEach(function (pair) {
          var parts = pair.split("=");
          var source = parts[1] && form.querySelector("[name='" + parts[1].trim() + "']");
          if (source) { params[parts[0].trim()] = source.value; }
        });
        files.push({ field: input.name, blob: input.files[0], name: input.files[0].name, url: form.getAttribute("data-files-api"), params: params });
      }
    });
    return files;
  }

  function missingRequired(root) {
    var missing = [];
    $$("[required]", root).forEach(function (el) {
      if (el.closest("template")) { return; }
      if (!String(el.value || "").trim()) { missing.push(el); }
    });
    return missing;
  }

  function markMissing(form, fields) {
    clearErrors(form);
    fields.forEach(function (field) {
      var message = text("p", T.required, "err js");
      message.setAttribute("data-error-for", field.name);
      (field.closest(".field") || field.parentNode).appendChild(message);
      field.setAttribute("aria-invalid", "true");
    });
    if (fields[0]) { fields[0].focus(); }
  }

  /* Records of this phone the new one needs on the server first: the household registered
   * offline (data-after) and the plots captured offline that a visit ticks. */
  function dependencies(form) {
    var after = [];
    var household = form.getAttribute("data-after");
    if (household) { after.push(household); }
    $$("[name=plots][data-outbox-record]:checked", form).forEach(function (box) { after.push(box.value); });
    return after;
  }

  function draftlessSearch() {
    var params = new URLSearchParams(window.location.search);
    params["delete"]("borrador");
    var search = params.toString();
    return search ? "?" + search : "";
  }

  function submitToOutbox(form, event) {
    event.preventDefault();
    var missing = missingRequired(form);
    if (missing.length) {
      var step = missing[0].closest("[data-step]");
      if (step) { showStep(form, step.getAttribute("data-step")); }
      markMissing(form, missing);
      return;
    }
    var built = formPayload(form);
    var id = built.payload.id;
    var kind = form.getAttribute("data-outbox");
    var label = form.getAttribute("data-label") || "";
    if (kind === "household" && built.payload.members && built.payload.members[0]) {
      label = built.payload.members[0].given_names + " " + built.payload.members[0].surnames;
    } else if (kind === "plot") {
      label = (built.payload.name || "") + " · " + label;
    } else if (kind === "visit") {
      // Dates as people read them: dd/mm/aaaa.
      label = label + " · " + String(built.payload.visited_on || "").split("-").reverse().join("/");
    }
    var online = navigator.onLine !== false;
    Outbox.get(id).then(function (existing) {
      if (existing && existing.status === "error") {
        existing.payload = built.payload;
        existing.labels = built.labels;
        existing.label = label;
        existing.status = "pending";
        existing.errors = [];
        return Outbox.remove(id).then(function () { return Outbox.add(existing); });
      }
      return Outbox.add({
        kind: kind,
        url: form.getAttribute("data-api"),
        payload: built.payload,
        label: label,
        labels: built.labels,
        files: photoFiles(form),
        kindLabel: form.getAttribute("data-kind-label") || "",
        link: kind === "household" ? "" : form.getAttribute("data-done") || "",
        editUrl: window.location.pathname + draftlessSearch(),
        after: dependencies(form)
      });
    }).then(function (record) {
      if (!online) {
        notice(form, T.saved);
        resetForm(form);
        return null;
      }
      notice(form, T.savedOnline);
      return Outbox.sync().then(function () { return Outbox.get(record.id); });
    }).then(function (record) {
      if (!record) { return; }
      if (record.status === "sent") {
        var done = form.getAttribute("data-done") || "";
        if (kind === "household") { done = (document.body.getAttribute("data-scope") || "/campo/") + "hogares/" + record.id + "/"; }
        window.location.assign(done);
      } else if (record.status === "error") {
        notice(form, "");
        showErrors(form, record);
      } else {
        notice(form, T.saved);
        resetForm(form);
      }
    });
  }

  /* Reopen a rejected record of the outbox in its form (…?borrador=<id>). */
  function loadDraft(form) {
    var draft = new URLSearchParams(window.location.search).get("borrador");
    if (!draft || !Outbox) { return; }
    Outbox.get(draft).then(function (record) {
      if (!record || record.status !== "error") { return; }
      var members = record.payload.members || [];
      for (var i = 1; i < members.length; i++) { addMember(form); }
      (function fill(prefix, value) {
        if (Array.isArray(value) && value.length && typeof value[0] !== "object") {
          $$("[name='" + prefix + "']", form).forEach(function (box) { box.checked = value.indexOf(box.value) >= 0; });
          return;
        }
        if (value && typeof value === "object") {
          if (prefix === "geometry") {
            var g = form.querySelector("[data-geometry]");
            if (g) { g.value = JSON.stringify(value); if (form._map) { form._map.showGeometry(value); } }
            return;
          }
          Object.keys(value).forEach(function (k) { fill(prefix ? prefix + "." + k : k, value[k]); });
          return;
        }
        var field = form.querySelector("[name='" + prefix + "']");
        if (field && field.type !== "file") { field.value = value; }
      })("", record.payload);
      showErrors(form, record);
    });
  }

  /* --- the register wizard ----------------------------------------------------------------- */
  function showStep(form, number) {
    if (!form.classList.contains("wizard")) { return; }
    $$("[data-step]", form).forEach(function (step) {
      step.hidden = step.getAttribute("data-step") !== String(number);
    });
    $$("[data-step-label]", form).forEach(function (li) {
      if (li.getAttribute("data-step-label") === String(number)) { li.setAttribute("aria-current", "step"); }
      else { li.removeAttribute("aria-current"); }
    });
  }

  function renumberMembers(form) {
    $$("[data-members] [data-member]", form).forEach(function (block, index) {
      block.setAttribute("data-member", index);
      var number = $("[data-member-number]", block);
      if (number) { number.textContent = index + 1; }
      $$("[name^='members.']", block).forEach(function (el) {
        var name = el.name.replace(/^members\.[^.]+\./, "members." + index + ".");
        el.name = name;
        el.id = name;
      });
      $$("label[for^='members.']", block).forEach(function (label) {
        label.setAttribute("for", label.getAttribute("for").replace(/^members\.[^.]+\./, "members." + index + "."));
      });
      var remove = $("[data-remove-member]", block);
      if (remove) { remove.hidden = index === 0; }
    });
  }

  function addMember(form) {
    var template = $("[data-member-template]", form);
    var holder = $("[data-members]", form);
    var index = $$("[data-member]", holder).length;
    var html = template.innerHTML.replace(/__i__/g, String(index)).replace(/__n__/g, String(index + 1));
    var wrapper = document.createElement("div");
    wrapper.innerHTML = html;
    var block = wrapper.firstElementChild;
    holder.appendChild(block);
    renumberMembers(form);
    wireDedup(form, block);
    return block;
  }

  /* --- duplicate warnings as they type ------------------------------------------------------ */
  function wireDedup(form, block) {
    var url = form.getAttribute("data-dedup-url");
    if (!url) { return; }
    var timer = null;
    var lastAsked = "";
    function check() {
      if (navigator.onLine === false) { return; }
      var index = block.getAttribute("data-member");
      var value = function (name) {
        var el = block.querySelector("[name='members." + index + "." + name + "']");
        return el ? el.value.trim() : "";
      };
      var params = new URLSearchParams({
        document_type: value("document_type"),
        document_number: value("document_number"),
        given_names: value("given_names"),
        surnames: value("surnames"),
        birth_date: value("birth_date"),
        district: (form.querySelector("[name=district]") || { value: "" }).value
      });
      if (!(params.get("document_number").length >= 8) && !(params.get("surnames") && params.get("birth_date"))) { return; }
      // The same question twice spends the officer's check budget for nothing.
      if (params.toString() === lastAsked) { return; }
      lastAsked = params.toString();
      // POST (with CSRF): ID numbers never travel in a URL, so no log or history keeps them.
      var token = (form.querySelector("input[name=csrfmiddlewaretoken]") || { value: "" }).value;
      fetch(url, {
        method: "POST",
        body: params,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": token }
      })
        .then(function (r) { return (r.ok || r.status === 429) ? r.json() : { matches: [] }; })
        .then(function (data) {
          var box = $("[data-dedup-result]", block);
          box.textContent = "";
          if (data.message) { box.appendChild(text("p", data.message, "alert warn")); }
          (data.matches || []).forEach(function (match) {
            var p = text("p", match.message + " ", match.blocking ? "alert error" : "alert warn");
            if (match.url) { var a = text("a", match.code); a.href = match.url; p.appendChild(a); }
            box.appendChild(p);
          });
        })["catch"](function () {});
    }
    $$("[data-dedup]", block).forEach(function (el) {
      el.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 400); });
      el.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(check, 100); });
    });
  }

  function wireWizard(form) {
    showStep(form, "1");
    $$("[data-next]", form).forEach(function (button) {
      button.addEventListener("click", function () {
        var step = button.closest("[data-step]");
        var missing = missingRequired(step);
        if (missing.length) { markMissing(form, missing); return; }
        clearErrors(form);
        showStep(form, Number(step.getAttribute("data-step")) + 1);
        var next = $("[data-step]:not([hidden]) input, [data-step]:not([hidden]) select", form);
        if (next) { next.focus(); }
      });
    });
    $$("[data-prev]", form).forEach(function (button) {
      button.addEventListener("click", function () {
        showStep(form, Number(button.closest("[data-step]").getAttribute("data-step")) - 1);
      });
    });
    var add = $("[data-add-member]", form);
    if (add) {
      add.addEventListener("click", function () {
        var block = addMember(form);
        var first = $("input", block);
        if (first) { first.focus(); }
      });
    }
    form.addEventListener("click", function (event) {
      var remove = event.target.closest && event.target.closest("[data-remove-member]");
      if (remove) {
        remove.closest("[data-member]").remove();
        renumberMembers(form);
      }
    });
    $$("[data-members] [data-member]", form).forEach(function (block) { wireDedup(form, block); });
    renumberMembers(form);
  }

  /* --- GPS point of a visit ---------------------------------------------------------------- */
  function wireGps(form) {
    var button = $("[data-gps]", form);
    if (!button) { return; }
    var status = $("[data-gps-status]", form);
    button.addEventListener("click", function () {
      status.textContent = T.gpsWaiting;
      navigator.geolocation.getCurrentPosition(function (position) {
        form.querySelector("[name='location.lat']").value = position.coords.latitude.toFixed(6);
        form.querySelector("[name='location.lon']").value = position.coords.longitude.toFixed(6);
        status.textContent = T.gpsOk + " (± " + Math.round(position.coords.accuracy || 0) + " m)";
      }, function () {
        status.textContent = T.gpsError;
      }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 });
    });
  }

  /* --- plot boundary: walking or a file ---------------------------------------------------- */
  function closeRing(points) {
    var ring = points.map(function (p) { return [p[0], p[1]]; });
    var first = ring[0];
    var last = ring[ring.length - 1];
    if (first[0] !== last[0] || first[1] !== last[1]) { ring.push([first[0], first[1]]); }
    return { type: "Polygon", coordinates: [ring] };
  }

  function numbers(textValue) {
    return textValue.trim().split(/\s+/).map(function (tuple) {
      var parts = tuple.split(",");
      return [Number(parts[0]), Number(parts[1])];
    }).filter(function (p) { return !isNaN(p[0]) && !isNaN(p[1]); });
  }

  function parseBoundary(name, content) {
    var lower = name.toLowerCase();
    if (/\.(geo)?json$/.test(lower)) {
      var data = JSON.parse(content);
      if (data.type === "FeatureCollection") { data = data.features[0]; }
      if (data && data.type === "Feature") { data = data.geometry; }
      if (data && (data.type === "Polygon" || data.type === "MultiPolygon")) { return data; }
      if (data && data.type === "LineString") { return closeRing(data.coordinates); }
      return null;
    }
    var xml = new DOMParser().parseFromString(content, "application/xml");
    if (xml.getElementsByTagName("parsererror").length) { return null; }
    if (/\.kml$/.test(lower)) {
      var coords = xml.getElementsByTagName("coordinates");
      if (!coords.length) { return null; }
      var points = numbers(coords[0].textContent);
      return points.length >= 3 ? closeRing(points) : null;
    }
    if (/\.gpx$/.test(lower)) {
      var nodes = xml.getElementsByTagName("trkpt");
      if (!nodes.length) { nodes = xml.getElementsByTagName("rtept"); }
      if (!nodes.length) { nodes = xml.getElementsByTagName("wpt"); }
      var pts = Array.prototype.map.call(nodes, function (n) {
        return [Number(n.getAttribute("lon")), Number(n.getAttribute("lat"))];
      });
      return pts.length >= 3 ? closeRing(pts) : null;
    }
    return null;
  }

  function wirePlot(form) {
    var start = $("[data-walk-start]", form);
    if (!start) { return; }
    var closeButton = $("[data-walk-close]", form);
    var status = $("[data-walk-status]", form);
    var hidden = $("[data-geometry]", form);
    var fileInput = $("[data-boundary-file]", form);
    var map = window.FieldMap ? window.FieldMap.editor($("#map", form)) : null;
    form._map = {
      clear: function () { points = []; hidden.value = ""; if (map) { map.clear(); } status.textContent = ""; showArea(null); },
      showGeometry: function (g) {
        if (map) { map.showGeometry(g); }
        showArea(window.FieldMap ? window.FieldMap.hectares(g) : null);
      },
      outline: function (url) { if (map) { map.outline(url); } }
    };
    var points = [];
    var watch = null;
    function addPoint(position) {
      var p = [Number(position.coords.longitude.toFixed(7)), Number(position.coords.latitude.toFixed(7))];
      var last = points[points.length - 1];
      if (last && last[0] === p[0] && last[1] === p[1]) { return; }
      points.push(p);
      status.textContent = points.length + " " + T.points;
      showArea(points.length >= 3 ? window.FieldMap && window.FieldMap.ringHectares(points.concat([points[0]])) : null);
      if (map) { map.showPath(points); }
    }
    var areaLine = $("[data-walk-area]", form);
    function showArea(value) {
      if (!areaLine) { return; }
      areaLine.hidden = value === null || value === undefined;
      areaLine.textContent = areaLine.hidden ? "" : T.area + ": " + showHectares(value);
      areaLine.setAttribute("data-hectares", areaLine.hidden ? "" : value.toFixed(4));
    }
    start.addEventListener("click", function () {
      points = [];
      hidden.value = "";
      status.textContent = T.gpsWaiting;
      if (watch !== null) { navigator.geolocation.clearWatch(watch); }
      watch = navigator.geolocation.watchPosition(addPoint, function () {
        status.textContent = T.gpsError;
      }, { enableHighAccuracy: true, maximumAge: 0, timeout: 60000 });
      start.setAttribute("aria-pressed", "true");
      showArea(null);
    });
    var corner = $("[data-walk-point]", form);
    if (corner) {
      corner.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(addPoint, function () { status.textContent = T.gpsError; },
          { enableHighAccuracy: true, maximumAge: 0, timeout: 30000 });
      });
    }
    closeButton.addEventListener("click", function () {
      if (watch !== null) { navigator.geolocation.clearWatch(watch); watch = null; }
      start.removeAttribute("aria-pressed");
      if (points.length < 3) { status.textContent = T.needPoints; return; }
      var geometry = closeRing(points);
      hidden.value = JSON.stringify(geometry);
      status.textContent = T.closed + " · " + points.length + " " + T.points;
      form._map.showGeometry(geometry);
    });
    if (fileInput) {
      fileInput.addEventListener("change", function () {
        var file = fileInput.files && fileInput.files[0];
        if (!file) { return; }
        var reader = new FileReader();
        reader.onload = function () {
          var geometry = null;
          try { geometry = parseBoundary(file.name, String(reader.result)); } catch (e) { geometry = null; }
          if (!geometry) { status.textContent = T.fileError; hidden.value = ""; return; }
          hidden.value = JSON.stringify(geometry);
          status.textContent = T.closed;
          form._map.showGeometry(geometry);
        };
        reader.readAsText(file);
      });
    }
  }

  /* A plot or visit for a household registered on this phone and not sent yet
   * (/campo/sin-enviar/…/?hogar=<id>): the household comes from the outbox; the record is sent
   * after it (and a visit after the plots captured here that it ticks). */
  function pendingHousehold(form) {
    if (!form.hasAttribute("data-pending-household")) { return Promise.resolve(); }
    var id = new URLSearchParams(window.location.search).get("hogar") || "";
    return Outbox.all().then(function (rows) {
      var household = rows.filter(function (r) { return r.id === id && r.kind === "household"; })[0];
      if (!household) { $$("[data-pending-missing]").forEach(function (el) { el.hidden = false; }); return; }
      form.querySelector("[name=household]").value = id;
      form.setAttribute("data-after", id);
      form.setAttribute("data-label", household.label || "");
      form.setAttribute("data-done", (document.body.getAttribute("data-scope") || "/campo/") + "hogares/" + id + "/");
      $$("[data-pending-household-label]").forEach(function (el) {
        el.textContent = (household.label || "") + " · " + T.notSent;
      });
      if (form._map && household.payload.district) {
        form._map.outline((document.body.getAttribute("data-scope") || "/campo/") + "distritos/" + household.payload.district + ".geojson");
      }
      var holder = $("[data-pending-plots]", form);
      if (holder) {
        rows.filter(function (r) { return r.kind === "plot" && r.payload.household === id; }).forEach(function (plot) {
          var label = document.createElement("label");
          label.className = "check";
          var box = document.createElement("input");
          box.type = "checkbox";
          box.name = "plots";
          box.value = plot.id;
          box.setAttribute("data-outbox-record", "");
          label.appendChild(box);
          label.appendChild(document.createTextNode(" " + (plot.payload.name || "")));
          holder.appendChild(label);
        });
        var none = $("[data-no-plots]", form);
        if (none && holder.children.length) { none.hidden = true; }
      }
      form.hidden = false;
    });
  }

  $$("form[data-outbox]").forEach(function (form) {
    if (!Outbox || !window.indexedDB) { return; } // plain form post
    if (form.classList.contains("wizard")) { wireWizard(form); }
    wireGps(form);
    wirePlot(form);
    form.addEventListener("submit", function (event) { submitToOutbox(form, event); });
    pendingHousehold(form).then(function () { loadDraft(form); });
  });
})();
