/* Maps of the field pages (vendored Leaflet). The base layer comes from FIELD_MAP_TILE_URL; when
 * it is empty the shapes are drawn on a plain background and nothing is fetched from outside. */
(function () {
  "use strict";
  if (!window.L) { return; }

  function baseMap(element) {
    var map = L.map(element, { attributionControl: true, zoomControl: true }).setView([-12.5, -73.9], 12);
    var url = element.getAttribute("data-tile-url");
    if (url) {
      L.tileLayer(url, { maxZoom: 19, attribution: element.getAttribute("data-tile-attribution") || "" }).addTo(map);
    }
    return map;
  }

  var style = { color: "#1f5f3a", weight: 3, fillOpacity: 0.25 };

  function editor(element) {
    if (!element) { return null; }
    var map = baseMap(element);
    var layer = null;
    function replace(next) {
      if (layer) { map.removeLayer(layer); }
      layer = next.addTo(map);
      map.invalidateSize();
      var bounds = layer.getBounds && layer.getBounds();
      if (bounds && bounds.isValid()) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 18 }); }
    }
    return {
      showPath: function (points) {
        var latlngs = points.map(function (p) { return [p[1], p[0]]; });
        replace(L.polyline(latlngs, style));
        if (points.length === 1) { map.setView(latlngs[0], 17); }
      },
      showGeometry: function (geometry) { replace(L.geoJSON(geometry, { style: style })); },
      clear: function () { if (layer) { map.removeLayer(layer); layer = null; } }
    };
  }

  window.FieldMap = { editor: editor };

  var element = document.getElementById("map");
  var data = document.getElementById("plot-features");
  if (element && data) {
    var map = baseMap(element);
    var layer = L.geoJSON(JSON.parse(data.textContent), {
      style: style,
      onEachFeature: function (feature, shape) {
        shape.bindTooltip(feature.properties.name + " · " + feature.properties.area_ha + " ha");
      }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 18 }); }
  }
})();
