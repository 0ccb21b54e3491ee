/*
 * The resident report page: the phone's position, a pin on our own grid map (no tile layer:
 * the network is closed), and previews of the chosen photos. The server checks everything again.
 *
 * Positions: browsers' navigator.geolocation answers WGS-84; WeChat's wx.getLocation is asked
 * for GCJ-02 and the form says so (coord=gcj02) for the server to convert.
 */
(function () {
  "use strict";

  var MAX_BYTES = 10 * 1024 * 1024;
  var form = document.getElementById("report-form");
  if (!form) return;

  function field(name) { return form.elements.namedItem(name); }
  function setStatus(el, text, kind) {
    if (!el) return;
    el.textContent = text;
    el.classList.remove("ok", "bad");
    if (kind) el.classList.add(kind);
  }

  // --- map -----------------------------------------------------------------------------
  var mapEl = form.querySelector("[data-pick-map]");
  var locateStatus = form.querySelector("[data-locate-status]");
  var map = null;
  var pin = null;
  var grids = [];

  function inRing(lon, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function inPolygon(lon, lat, rings) {
    if (!inRing(lon, lat, rings[0])) return false;
    for (var k = 1; k < rings.length; k++) if (inRing(lon, lat, rings[k])) return false;
    return true;
  }
  function gridAt(lon, lat) {
    for (var i = 0; i < grids.length; i++) {
      var g = grids[i].geometry;
      if (!g) continue;
      var polys = g.type === "MultiPolygon" ? g.coordinates : g.type === "Polygon" ? [g.coordinates] : [];
      for (var p = 0; p < polys.length; p++) if (inPolygon(lon, lat, polys[p])) return grids[i].properties.name;
    }
    return null;
  }

  function showPin(lon, lat) {
    if (!map || !window.L) return;
    var at = window.L.latLng(lat, lon);
    if (pin) pin.setLatLng(at);
    else pin = window.L.circleMarker(at, { radius: 10, color: "#a61b1b", weight: 3, fillColor: "#ffd36b", fillOpacity: 0.9 }).addTo(map);
    map.panTo(at);
  }

  function choose(lon, lat, coord, source) {
    field("lon").value = lon.toFixed(7);
    field("lat").value = lat.toFixed(7);
    field("coord").value = coord;
    field("source").value = source;
    var name = coord === "wgs84" && grids.length ? gridAt(lon, lat) : null;
    if (coord === "wgs84" && grids.length && !name) {
      setStatus(locateStatus, "该位置不在本平台的服务网格内，请在地图上的网格内点选。", "bad");
    } else {
      setStatus(locateStatus, (source === "map" ? "已在地图上选择位置" : "已获取您的位置") + (name ? "（" + name + "）" : "") + "。", "ok");
    }
    showPin(lon, lat);
  }

  if (mapEl && window.L) {
    map = window.L.map(mapEl, { attributionControl: false, zoomSnap: 0.5 });
    map.setView([31.3, 120.6], 12);
    fetch(mapEl.getAttribute("data-geojson-url"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        grids = data.features || [];
        var layer = window.L.geoJSON(data, {
          style: function () { return { color: "#2f6fbe", weight: 2, fillColor: "#2f6fbe", fillOpacity: 0.12 }; },
          onEachFeature: function (feature, l) {
            l.bindTooltip(String(feature.properties.name), { sticky: true, direction: "top" });
            l.on("click", function (e) { choose(e.latlng.lng, e.latlng.lat, "wgs84", "map"); });
          },
        }).addTo(map);
        var lon = parseFloat(field("lon").value), lat = parseFloat(field("lat").value);
        if (!isNaN(lon) && !isNaN(lat)) {
          showPin(lon, lat);
          map.setView([lat, lon], 16);
        } else if (layer.getLayers().length) {
          map.fitBounds(layer.getBounds(), { padding: [8, 8] });
        }
      })
      .catch(function () { setStatus(locateStatus, "网格地图加载失败，请使用“使用我的位置”。", "bad"); });
    map.on("click", function (e) { choose(e.latlng.lng, e.latlng.lat, "wgs84", "map"); });
  }

  var locate = form.querySelector("[data-locate]");
  if (locate) {
    locate.addEventListener("click", function () {
      setStatus(locateStatus, "正在定位……");
      if (window.wx && typeof window.wx.getLocation === "function") {
        window.wx.getLocation({
          type: "gcj02",
          success: function (res) { choose(res.longitude, res.latitude, "gcj02", "gps"); },
          fail: function () { setStatus(locateStatus, "无法获取位置，请在地图上点选问题位置。", "bad"); },
        });
        return;
      }
      if (!navigator.geolocation) {
        setStatus(locateStatus, "您的浏览器不支持定位，请在地图上点选问题位置。", "bad");
        return;
      }
      navigator.geolocation.getCurrentPosition(
        function (pos) { choose(pos.coords.longitude, pos.coords.latitude, "wgs84", "gps"); },
        function (err) {
          var why = err && err.code === 1 ? "您未允许获取位置" : "暂时无法获取位置";
          setStatus(locateStatus, why + "，请在地图上点选问题位置。", "bad");
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  // --- photos --------------------------------------------------------------------------
  var input = form.querySelector("[data-photo-input]");
  var preview = form.querySelector("[data-photo-preview]");
  var photoStatus = form.querySelector("[data-photo-status]");
  var urls = [];
  function keptCount() {
    return form.querySelectorAll('input[name="staged"]:checked').length;
  }
  function refresh() {
    urls.forEach(function (u) { URL.revokeObjectURL(u); });
    urls = [];
    preview.textContent = "";
    var files = Array.prototype.slice.call(input.files || []);
    var max = parseInt(input.getAttribute("data-max"), 10) || 9;
    var problems = 0;
    files.forEach(function (file, i) {
      var li = document.createElement("li");
      var note = "";
      if (file.size > MAX_BYTES) note = "超过10 MB";
      else if (file.type && file.type.indexOf("image/") !== 0) note = "不是图片";
      if (note) { li.className = "bad"; problems++; }
      var img = document.createElement("img");
      img.alt = "待上传的照片" + (i + 1);
      img.width = 88; img.height = 88;
      if (!note) {
        var u = URL.createObjectURL(file);
        urls.push(u);
        img.onerror = function () {
          // The browser cannot show it: the server will most likely refuse it too.
          li.className = "bad";
          img.removeAttribute("src");
          var warn = document.createElement("span");
          warn.className = "h5-thumb-note";
          warn.textContent = file.name + "：无法识别的图片";
          li.appendChild(warn);
          setStatus(photoStatus, "有照片无法识别（见上），提交时会被拒收，请重新选择。", "bad");
        };
        img.src = u;
      }
      li.appendChild(img);
      if (note) { var s = document.createElement("span"); s.className = "h5-thumb-note"; s.textContent = file.name + "：" + note; li.appendChild(s); }
      preview.appendChild(li);
    });
    var total = files.length + keptCount();
    if (total > max) setStatus(photoStatus, "照片最多" + max + "张，您选择了" + total + "张，请重新选择。", "bad");
    else if (problems) setStatus(photoStatus, "有" + problems + "张照片不符合要求（见上），请重新选择。", "bad");
    else if (files.length) setStatus(photoStatus, "已选择" + files.length + "张照片，提交时上传。", "ok");
    else setStatus(photoStatus, "");
  }
  if (input && preview) {
    input.addEventListener("change", refresh);
    form.addEventListener("change", function (e) { if (e.target && e.target.name === "staged") refresh(); });
  }

  form.addEventListener("submit", function () {
    var button = form.querySelector("[data-submit]");
    if (button) {
      // Disabled a tick later, so the click that submits still counts; a second tap does nothing.
      setTimeout(function () { button.disabled = true; button.textContent = "正在提交……"; }, 0);
    }
  });

  var errors = document.getElementById("form-errors");
  if (errors) errors.focus();
})();
