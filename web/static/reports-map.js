// The /reports map: the listed reports' pins (public data only: a rounded point, code, category, status),
// clustered, read page by page from /api/v1/public/pins with the list's filters. Without JavaScript the
// page shows its schematic ward map instead.
(function () {
  "use strict";
  var element = document.getElementById("reports-map");
  var civic = window.CivicMap;
  if (!element || !window.L || !L.markerClusterGroup || !civic) { return; }
  var t = civic.t;
  var PAGE = 200;
  var MOST = 1000;  // beyond this the clusters say enough; the list below has every report
  var statuses = JSON.parse(element.dataset.statuses || "{}");
  var english = document.documentElement.lang === "en";
  var count = document.getElementById("map-count");
  var fallback = document.getElementById("ward-svg");

  var map = civic.create(element);
  if (fallback) { fallback.hidden = true; }
  var clusters = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 });
  map.addLayer(clusters);
  var shown = 0;

  function popup(pin) {
    var category = (english ? pin.category_en : pin.category_vi) || "—";
    var lines = [
      "<strong>" + civic.escape(pin.code) + "</strong>",
      civic.escape(category),
      civic.escape(statuses[pin.status] || pin.status) + (pin.ward_name ? " · " + civic.escape(pin.ward_name) : ""),
    ];
    return lines.join("<br>");
  }

  function load(offset) {
    civic.getJSON(element.dataset.pins + "&limit=" + PAGE + "&offset=" + offset).then(function (page) {
      clusters.addLayers(page.pins.map(function (pin) {
        return L.marker([pin.latitude, pin.longitude], { title: pin.code, alt: pin.code }).bindPopup(popup(pin));
      }));
      shown += page.pins.length;
      if (count) {
        count.hidden = false;
        count.textContent = t("js_map_pins_shown").replace("{shown}", shown).replace("{total}", page.total);
      }
      var next = offset + page.pins.length;
      if (page.pins.length && next < page.total && next < MOST) { load(next); }
    }).catch(function () {
      if (count) { count.hidden = false; count.textContent = t("js_map_pins_failed"); }
    });
  }
  load(0);
}());
