/* 网格规划: current grids and the proposal side by side, our own GeoJSON only (no tiles). */
(function () {
  "use strict";
  var node = document.getElementById("planning-data");
  if (!node || !window.L) { return; }
  var data = JSON.parse(node.textContent);
  var COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  var maps = [];

  function draw(id, collection, floor, ceiling) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
    var i = 0;
    var layer = L.geoJSON(collection, {
      style: function (f) {
        var colour = COLOURS[(i++) % COLOURS.length];
        var out = f.properties.households < floor || f.properties.households > ceiling;
        return { color: out ? "#b42318" : "#333", weight: out ? 2.5 : 1, fillColor: colour, fillOpacity: 0.55 };
      },
      onEachFeature: function (f, l) {
        l.bindTooltip(f.properties.name + "<br>" + f.properties.households + " 户" + (f.properties.existing === false ? "（新建）" : ""), { sticky: true });
      }
    }).addTo(map);
    layer.eachLayer(function (l) {
      var c = l.getBounds().getCenter();
      L.marker(c, { icon: L.divIcon({ className: "plan-label", html: String(l.feature.properties.households), iconSize: null }), keyboard: false, interactive: false }).addTo(map);
    });
    return { map: map, layer: layer };
  }
  // Current grids against the standard; the proposal against the bounds it was made with.
  var a = draw("plan-current", data.current, data.standard[0], data.standard[1]);
  var b = draw("plan-proposal", data.proposal, data.floor, data.ceiling);
  [a, b].forEach(function (m) { if (m) { maps.push(m); } });
  var bounds = null;
  maps.forEach(function (m) { if (m.layer.getLayers().length) { bounds = bounds ? bounds.extend(m.layer.getBounds()) : m.layer.getBounds(); } });
  maps.forEach(function (m) { if (bounds) { m.map.fitBounds(bounds, { padding: [8, 8] }); } else { m.map.setView([31.38, 120.95], 13); } });
  // Move together: panning or zooming one map moves the other.
  if (maps.length === 2) {
    var busy = false;
    maps.forEach(function (m, k) {
      m.map.on("moveend", function () {
        if (busy) { return; }
        busy = true;
        maps[1 - k].map.setView(m.map.getCenter(), m.map.getZoom(), { animate: false });
        busy = false;
      });
    });
  }
})();
