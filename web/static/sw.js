// Gridflow's service worker: the report page and its assets stay available without a network.
// Pages and the grid map: the network first, the last good copy when offline. Static files: the cache first.
"use strict";
var CACHE = "gridflow-v2";  // a new name whenever a cached file changes
var ASSETS = ["/assets/app.css", "/assets/map.js", "/assets/photos.js", "/assets/offline.js", "/assets/icon.svg",
  "/assets/vendor/htmx/htmx.min.js", "/assets/vendor/leaflet/leaflet.js", "/assets/vendor/leaflet/leaflet.css"];
var PAGES = ["/report", "/report/grids.geojson"];

function keepIfGood(cache, url, response) {
  if (response.ok && !response.redirected) { return cache.put(url, response.clone()).then(function () { return response; }); }
  return response;
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(ASSETS).then(function () {
      return Promise.all(PAGES.map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (r) { return keepIfGood(cache, url, r); })
          .catch(function () {});
      }));
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/assets/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (r) {
        return caches.open(CACHE).then(function (cache) { return keepIfGood(cache, request, r); });
      });
    }));
    return;
  }
  if (PAGES.indexOf(url.pathname) !== -1) {
    event.respondWith(fetch(request).then(function (r) {
      return caches.open(CACHE).then(function (cache) { return keepIfGood(cache, url.pathname, r); });
    }).catch(function () {
      return caches.match(url.pathname).then(function (hit) { return hit || Response.error(); });
    }));
  }
});
