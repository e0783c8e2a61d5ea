// 一张图: the grids under one grid, coloured by the state the server gives each (overdue, breached, open, calm),
// on a plain background; a click on a grid opens the page of that grid, and the listed cases are drawn as points.
(function () {
  "use strict";
  var box = document.getElementById("gridmap");
  if (!box || !window.L) { return; }
  var COLOURS = { overdue: "#b3261e", breached: "#c26a00", open: "#0b5cad", calm: "#7b8794",
    accepted: "#1e7b34", submitted: "#4f9a5e", partial: "#c26a00" };  // the last three: a campaign's progress
  var map = L.map(box, { attributionControl: false, zoomSnap: 0.25 });
  map.createPane("cases").style.zIndex = 660;  // case points above the grids' labels, which sit at their centres

  function style(feature) {
    var colour = COLOURS[feature.properties.state] || COLOURS.calm;
    return { color: colour, weight: 2, fillColor: colour, fillOpacity: feature.properties.state === "calm" ? 0.08 : 0.3 };
  }

  function points() {
    var layer = L.featureGroup();
    document.querySelectorAll("#grid-cases [data-lat]").forEach(function (item) {
      var marker = L.circleMarker([+item.dataset.lat, +item.dataset.lng],
        { pane: "cases", radius: 7, color: "#1b1f24", weight: 2, fillColor: "#ffd34d", fillOpacity: 1 });
      marker.bindTooltip(item.dataset.number);
      marker.on("click", function () { window.location.href = item.dataset.href; });
      layer.addLayer(marker);
    });
    return layer.addTo(map);
  }

  fetch(box.dataset.shapes, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (data) {
      var grids = L.geoJSON(data, {
        style: style,
        onEachFeature: function (feature, shape) {
          var p = feature.properties;
          shape.bindTooltip(p.label + (p.open ? " · " + p.open : ""), { permanent: true, direction: "center", className: "grid-label" });
          if (p.href) {
            shape.on("click", function () { window.location.href = p.href; });
          }
        }
      }).addTo(map);
      var cases = points();
      var bounds = grids.getBounds();
      if (cases.getLayers().length) { bounds.extend(cases.getBounds()); }
      if (bounds.isValid()) { map.fitBounds(bounds.pad(0.05)); } else { map.setView([24.95, 118.35], 10); }
      grids.eachLayer(function (shape) {  // which grid a shape is (its element exists once the map has a view)
        var element = shape.getElement && shape.getElement();
        if (element) { element.setAttribute("data-grid", shape.feature.properties.code); }
      });
      box.dataset.ready = String(grids.getLayers().length);
    })
    .catch(function () { map.setView([24.95, 118.35], 10); box.dataset.ready = "0"; });
})();
