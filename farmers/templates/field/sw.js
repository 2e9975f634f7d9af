/* Service worker of the field pages ({{ version }}): the shell (CSS, JS, Leaflet, icons) and the
 * officer's pages, reference data and district outlines are cached so that the app opens without
 * signal. Pages are fetched network-first (fresh when there is signal) and fall back to the
 * cached copy, or to a page saying that this one is not on the phone yet. District outlines (the
 * maps' base layer) are cache-first. API calls are never cached: records wait in the outbox
 * (IndexedDB) instead. */
"use strict";
var CACHE = "campo-{{ version }}";
var SHELL = {{ shell|safe }};
var PAGES = {{ pages|safe }};
var HOME = {{ home|safe }};
var NOT_CACHED = {{ not_cached|safe }};
var REFERENCE = {{ reference|safe }};
var OUTLINES = {{ outlines|safe }};

/* The outlines of the officer's districts (listed in the reference data) for maps offline. */
function warmOutlines(cache) {
  return cache.match(REFERENCE).then(function (hit) {
    return hit ? hit.json() : { districts: [] };
  }).then(function (data) {
    return (data.districts || []).reduce(function (chain, district) {
      return chain.then(function () {
        if (!district.outline) { return null; }
        return cache.match(district.outline).then(function (found) {
          if (found) { return null; }
          return fetch(district.outline, { credentials: "same-origin" }).then(function (response) {
            if (response.ok) { return cache.put(district.outline, response); }
            return null;
          });
        })["catch"](function () {});
      });
    }, Promise.resolve());
  })["catch"](function () {});
}

/* Pages need the session: cache those that answer (never a redirect to the login). One at a
 * time, so that the warm-up never holds every connection the page needs. */
function warmPages() {
  return caches.open(CACHE).then(function (cache) {
    return PAGES.reduce(function (chain, url) {
      return chain.then(function () {
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (response.ok && !response.redirected) { return cache.put(url, response); }
          return null;
        })["catch"](function () {});
      });
    }, Promise.resolve()).then(function () { return warmOutlines(cache); });
  });
}

/* Installing caches the shell only, so the worker takes control at once; the pages and outlines
 * are warmed once it is active (below), one at a time, without holding the page's requests. */
self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(SHELL);
  }).then(function () { return self.skipWaiting(); }));
});

/* A signed-in page asks for the officer's pages and reference data to be cached (at most every
 * ten minutes: each page view must not cost the phone three more downloads). */
var lastWarm = 0;
self.addEventListener("message", function (event) {
  if (!event.data) { return; }
  if (event.data.type === "page" && navigator.onLine !== false) {
    // A page shown before this worker took control is cached too.
    event.waitUntil(cachePage(event.data.url));
  }
  if (event.data.type !== "warm" || Date.now() - lastWarm < 600000) { return; }
  lastWarm = Date.now();
  event.waitUntil(warmPages());
});

function cachePage(path) {
  var url = new URL(path, self.location.origin);
  if (url.origin !== self.location.origin || url.pathname.indexOf(HOME) !== 0 || url.search) {
    return Promise.resolve();
  }
  return caches.match(url.pathname).then(function (hit) {
    if (hit) { return null; }
    return fetch(url.pathname, { credentials: "same-origin" }).then(function (response) {
      if (response.ok && !response.redirected) {
        return caches.open(CACHE).then(function (cache) { return cache.put(url.pathname, response); });
      }
      return null;
    });
  })["catch"](function () {});
}

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("campo-") === 0 && key !== CACHE;
    }).map(function (key) { return caches["delete"](key); }));
  }).then(function () { return self.clients.claim(); }).then(function () {
    warmPages(); // not awaited: an activating worker would hold every fetch until it ends
  }));
});

function pageKey(request) {
  var url = new URL(request.url);
  return url.pathname; // one copy per page: search results are not cached separately
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET") {
    /* The search on "my work" is a POST (no ID number in a URL): without signal it opens the
     * cached "my work" page instead of the browser's error page. Other forms are left alone. */
    if (request.mode === "navigate" && url.origin === self.location.origin && url.pathname === HOME) {
      event.respondWith(fetch(request)["catch"](function () { return caches.match(HOME); }));
    }
    return;
  }
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) { return; }
  if (url.pathname.indexOf(OUTLINES) === 0) {
    event.respondWith(caches.match(url.pathname).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (response.ok) {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
        }
        return response;
      });
    }));
    return;
  }
  var isShell = SHELL.indexOf(url.pathname) >= 0;
  if (isShell) {
    event.respondWith(caches.match(url.pathname).then(function (hit) { return hit || fetch(request); }));
    return;
  }
  if (request.mode === "navigate" || PAGES.indexOf(url.pathname) >= 0) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected && url.search === "") {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(pageKey(request), copy); });
      }
      return response;
    })["catch"](function () {
      return caches.match(pageKey(request)).then(function (hit) {
        // A page never opened with signal says so (instead of silently showing "my work").
        return hit || caches.match(NOT_CACHED).then(function (page) { return page || caches.match(HOME); });
      });
    }));
  }
});
