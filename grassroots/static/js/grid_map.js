/*
 * Grid maps: draws only our own grid GeoJSON with Leaflet, never an online tile layer
 * (the network is closed, and published base maps need official approval).
 *
 * Any element with data-grid-map becomes a map. Attributes:
 *   data-geojson-url          FeatureCollection from /api/v1/places/areas/<id>/grids.geojson
 *   data-area-url-template    a grid page URL with 999999999 in place of the id
 *   data-colour-control       (optional) id of a fieldset of radio buttons: kind | households
 *   data-legend, data-summary (optional) ids of elements to fill with the legend and a summary
 */
(function () {
  "use strict";

  var KIND_COLOURS = {
    comprehensive: { colour: "#2f6fbe", label: "综合网格" },
    dedicated: { colour: "#d9822b", label: "专属网格" },
    micro: { colour: "#2e9a5c", label: "精微网格" },
  };
  var OTHER_KIND = { colour: "#7a7f87", label: "其他" };

  // Household bands follow the rules: about 100 per micro-grid, 300–500 per comprehensive grid.
  var HOUSEHOLD_BANDS = [
    { max: 0, colour: "#e7e9ec", label: "0 户" },
    { max: 99, colour: "#c9dcf2", label: "1–99 户" },
    { max: 299, colour: "#8db5e3", label: "100–299 户" },
    { max: 500, colour: "#2f6fbe", label: "300–500 户（综合网格标准）" },
    { max: Infinity, colour: "#b3261e", label: "500 户以上" },
  ];

  function kindOf(feature) {
    return KIND_COLOURS[feature.properties.kind] || OTHER_KIND;
  }

  function bandOf(households) {
    for (var i = 0; i < HOUSEHOLD_BANDS.length; i++) {
      if (households <= HOUSEHOLD_BANDS[i].max) return HOUSEHOLD_BANDS[i];
    }
    return HOUSEHOLD_BANDS[HOUSEHOLD_BANDS.length - 1];
  }

  function fillFor(feature, mode) {
    return mode === "households" ? bandOf(feature.properties.households || 0).colour : kindOf(feature).colour;
  }

  // Built with DOM nodes and textContent so a grid name can never inject markup.
  function popupFor(feature, urlTemplate) {
    var p = feature.properties;
    var box = document.createElement("div");
    box.className = "grid-popup";
    var title = document.createElement("strong");
    title.textContent = p.name;
    box.appendChild(title);
    var line = document.createElement("div");
    line.textContent = (p.kind_label || kindOf(feature).label) + " · " + (p.households || 0) + " 户";
    box.appendChild(line);
    if (urlTemplate) {
      var link = document.createElement("a");
      link.href = urlTemplate.replace("999999999", String(p.id));
      link.textContent = "查看网格详情";
      box.appendChild(link);
    }
    return box;
  }

  function renderLegend(el, mode, features) {
    if (!el) return;
    el.textContent = "";
    var items;
    if (mode === "households") {
      items = HOUSEHOLD_BANDS;
    } else {
      // Only the kinds present, so the legend never lists what the map does not show.
      var seen = {};
      items = [];
      features.forEach(function (f) {
        var k = kindOf(f);
        if (!seen[k.label]) {
          seen[k.label] = true;
          items.push(k);
        }
      });
    }
    var title = document.createElement("span");
    title.className = "legend-title";
    title.textContent = mode === "households" ? "户数" : "网格类型";
    el.appendChild(title);
    items.forEach(function (item) {
      var row = document.createElement("span");
      row.className = "legend-item";
      var swatch = document.createElement("span");
      swatch.className = "legend-swatch";
      swatch.style.background = item.colour;
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(item.label));
      el.appendChild(row);
    });
  }

  function currentMode(control) {
    if (!control) return "kind";
    var checked = control.querySelector("input[type=radio]:checked");
    return checked ? checked.value : "kind";
  }

  function showMessage(el, text) {
    var msg = document.createElement("div");
    msg.className = "map-message";
    msg.textContent = text;
    el.appendChild(msg);
  }

  function initMap(el) {
    if (el.dataset.ready) return;
    el.dataset.ready = "1";
    var control = el.dataset.colourControl ? document.getElementById(el.dataset.colourControl) : null;
    var legend = el.dataset.legend ? document.getElementById(el.dataset.legend) : null;
    var summary = el.dataset.summary ? document.getElementById(el.dataset.summary) : null;
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: false, scrollWheelZoom: false });
    // A view is needed before any layer is added; fitBounds replaces it once data arrives.
    map.setView([31.3, 120.9], 12);

    fetch(el.dataset.geojsonUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        var features = (data && data.features) || [];
        if (!features.length) {
          showMessage(el, "该区域没有已绘制边界的网格。");
          if (summary) summary.textContent = "没有已绘制边界的网格。";
          return;
        }
        var mode = currentMode(control);
        var layer = L.geoJSON(data, {
          style: function (feature) {
            return { color: "#1f2328", weight: 1, fillColor: fillFor(feature, mode), fillOpacity: 0.6 };
          },
          onEachFeature: function (feature, lyr) {
            lyr.bindPopup(popupFor(feature, el.dataset.areaUrlTemplate));
            lyr.bindTooltip(feature.properties.name, { sticky: true });
            // The popup already names the grid; a tooltip beside it would say it twice.
            lyr.on("popupopen", function () { lyr.closeTooltip(); });
          },
        }).addTo(map);
        map.fitBounds(layer.getBounds(), { padding: [12, 12] });
        renderLegend(legend, mode, features);
        if (summary) {
          var total = features.reduce(function (sum, f) { return sum + (f.properties.households || 0); }, 0);
          summary.textContent = "共 " + features.length + " 个网格，" + total + " 户。点击网格查看详情。";
        }
        if (control) {
          control.addEventListener("change", function () {
            mode = currentMode(control);
            layer.setStyle(function (feature) {
              return { fillColor: fillFor(feature, mode) };
            });
            renderLegend(legend, mode, features);
          });
        }
      })
      .catch(function () {
        showMessage(el, "网格边界加载失败，请刷新页面重试。");
        if (summary) summary.textContent = "网格边界加载失败。";
      });
  }

  function init() {
    // Switching area reloads the page; the button stays for keyboards and no-JS use.
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    if (typeof L === "undefined") return;
    document.querySelectorAll("[data-grid-map]").forEach(initMap);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
