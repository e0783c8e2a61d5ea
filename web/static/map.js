// The report page's map: the grid polygons around the user's area on a plain background (no tile server);
// a tap or the phone's position picks the point, and the server names the unit grid before anything is sent.
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || !window.L) { return; }
  var lat = document.getElementById("lat"), lng = document.getElementById("lng");
  var place = document.getElementById("place");
  var map = L.map(box, { attributionControl: false, zoomSnap: 0.25 });
  var marker = null;

  function say(html) { place.innerHTML = html; }

  function choose(latlng) {
    lat.value = latlng.lat.toFixed(6);
    lng.value = latlng.lng.toFixed(6);
    if (marker) { marker.setLatLng(latlng); } else {
      marker = L.circleMarker(latlng, { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.7 }).addTo(map);
    }
    var url = box.dataset.locate + "?lat=" + encodeURIComponent(lat.value) + "&lng=" + encodeURIComponent(lng.value);
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(say)
      .catch(function () { say('<p class="hint">' + box.dataset.offline + "</p>"); });
  }

  function style(feature) {
    var p = feature.properties;
    if (p.mine) { return { color: "#0b5cad", weight: 3, fillColor: "#0b5cad", fillOpacity: 0.15 }; }
    return { color: "#5d6b7a", weight: p.depth > 1 ? 1 : 2, dashArray: p.depth > 1 ? "3" : null, fillOpacity: 0.03 };
  }

  fetch(box.dataset.grids, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        style: style,
        onEachFeature: function (feature, shape) {
          if (feature.properties.depth === 1 || feature.properties.mine) {
            shape.bindTooltip(feature.properties.label, { permanent: true, direction: "center", className: "grid-label" });
          }
        }
      }).addTo(map);
      var mine = layer.getLayers().filter(function (l) { return l.feature.properties.mine; });
      var bounds = (mine.length ? L.featureGroup(mine) : layer).getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds.pad(0.5)); } else { map.setView([24.95, 118.35], 11); }
      if (lat.value && lng.value) { choose(L.latLng(+lat.value, +lng.value)); }
    })
    .catch(function () { map.setView([24.95, 118.35], 11); });

  map.on("click", function (event) { choose(event.latlng); });

  var button = document.getElementById("locate-me");
  if (button) {
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { say('<p class="error">' + box.dataset.nogps + "</p>"); return; }
      navigator.geolocation.getCurrentPosition(function (position) {
        var here = L.latLng(position.coords.latitude, position.coords.longitude);
        map.panTo(here);
        choose(here);
      }, function () { say('<p class="error">' + box.dataset.nogps + "</p>"); },
      { enableHighAccuracy: true, timeout: 15000 });
    });
  }

  var form = box.closest("form");
  if (form) { form.addEventListener("reset", function () { if (marker) { map.removeLayer(marker); marker = null; } say(""); }); }
})();
