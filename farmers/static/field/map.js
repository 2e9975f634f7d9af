/* Maps of the field pages (vendored Leaflet). The base layer is the household's district outline
 * shipped with the registry (data-outline-url: /campo/distritos/<ubigeo>.geojson, INEI 2007
 * limits, kept by the service worker for use offline), drawn under the plots. Tiles are added
 * only where FIELD_MAP_TILE_URL configures a tile server (the outline is then a dashed line);
 * otherwise nothing is fetched from outside. */
(function () {
  "use strict";
  if (!window.L) { return; }

  var outlineStyle = { color: "#5f5f5f", weight: 2, dashArray: "6 4", fillColor: "#e8e2cf", fillOpacity: 0.7 };

  /* Draw the district outline under the plots; fit the map to it when nothing else is shown. */
  function outline(map, element, url, fit) {
    if (!url) { return; }
    element.setAttribute("data-outline-url", url);
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (feature) {
      if (!feature || !feature.geometry) { return; }
      var tiles = !!element.getAttribute("data-tile-url");
      var style = tiles ? { color: outlineStyle.color, weight: 2, dashArray: "6 4", fill: false } : outlineStyle;
      var layer = L.geoJSON(feature, {
        pane: "outline", style: style, interactive: false,
        attribution: element.getAttribute("data-outline-attribution") || ""
      }).addTo(map);
      element.setAttribute("data-outline-drawn", feature.properties && feature.properties.name || "");
      if (fit()) { map.fitBounds(layer.getBounds(), { padding: [10, 10] }); }
    })["catch"](function () { /* no outline: plain background */ });
  }

  function baseMap(element) {
    var map = L.map(element, { attributionControl: true, zoomControl: true }).setView([-12.5, -73.9], 12);
    // The outline sits under the plots (overlay pane: 400).
    map.createPane("outline");
    map.getPane("outline").style.zIndex = 350;
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
      // Room for the attribution line under the shape.
      if (bounds && bounds.isValid()) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 18 }); }
    }
    outline(map, element, element.getAttribute("data-outline-url"), function () { return !layer; });
    return {
      showPath: function (points) {
        var latlngs = points.map(function (p) { return [p[1], p[0]]; });
        replace(L.polyline(latlngs, style));
        if (points.length === 1) { map.setView(latlngs[0], 17); }
      },
      showGeometry: function (geometry) { replace(L.geoJSON(geometry, { style: style })); },
      clear: function () { if (layer) { map.removeLayer(layer); layer = null; } },
      outline: function (url) { outline(map, element, url, function () { return !layer; }); }
    };
  }

  /* Area of a ring of [lon, lat] points in hectares, on the sphere (as Leaflet.draw does):
   * within a few tenths of a percent of the registry's ellipsoidal area for a family's plot. */
  function ringHectares(ring) {
    var radius = 6378137;
    var total = 0;
    for (var i = 0; i < ring.length; i++) {
      var a = ring[i];
      var b = ring[(i + 1) % ring.length];
      total += (b[0] - a[0]) * Math.PI / 180 *
        (2 + Math.sin(a[1] * Math.PI / 180) + Math.sin(b[1] * Math.PI / 180));
    }
    return Math.abs(total * radius * radius / 2) / 10000;
  }

  function hectares(geometry) {
    if (!geometry) { return 0; }
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates]
      : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
    return polygons.reduce(function (sum, rings) {
      return sum + rings.reduce(function (inner, ring, index) {
        return inner + (index === 0 ? 1 : -1) * ringHectares(ring);
      }, 0);
    }, 0);
  }

  window.FieldMap = { editor: editor, hectares: hectares, ringHectares: ringHectares };

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
    outline(map, element, element.getAttribute("data-outline-url"), function () { return !bounds.isValid(); });
  }
})();
