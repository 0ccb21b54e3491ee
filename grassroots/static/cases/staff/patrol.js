// Patrol report: fill the hidden lon/lat from the phone's position (navigator.geolocation gives WGS-84).
(function () {
  "use strict";
  var button = document.getElementById("gps-button");
  var status = document.getElementById("gps-status");
  var lon = document.getElementById("id_lon");
  var lat = document.getElementById("id_lat");
  if (!button || !status || !lon || !lat || !("geolocation" in navigator)) {
    return; // no GPS: the building select is the way
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = "正在定位…";
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var c = position.coords;
        lon.value = c.longitude.toFixed(7);
        lat.value = c.latitude.toFixed(7);
        status.textContent = "已定位：" + lon.value + ", " + lat.value + "（精度约 " + Math.round(c.accuracy) + " 米）";
        button.disabled = false;
      },
      function (error) {
        var reasons = { 1: "未获准使用定位", 2: "无法获取位置", 3: "定位超时" };
        status.textContent = (reasons[error.code] || "定位失败") + "，请选择所在楼栋。";
        button.disabled = false;
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });
})();
