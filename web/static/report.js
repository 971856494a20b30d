// The report form works without JavaScript (latitude and longitude are plain inputs); this adds the pin
// picker: tap the map to drop the pin, drag it to adjust, or use the phone's location. After each move
// the ward the pin falls in is asked of /api/v1/geo/locate and said in the aria-live status line.
(function () {
  "use strict";
  var latitude = document.getElementById("latitude");
  var longitude = document.getElementById("longitude");
  var status = document.getElementById("pin-status");
  var button = document.getElementById("use-location");
  var element = document.getElementById("report-map");
  if (!latitude || !longitude || !status) { return; }
  var civic = window.CivicMap;
  var t = civic ? civic.t : function (key) { return key; };
  var map = null;
  var marker = null;
  var asked = 0;

  function say(text, kind) {
    status.textContent = text;
    status.className = "pin-status" + (kind ? " " + kind : "");
  }

  function locate(point) {
    var mine = ++asked;
    say(t("js_pin_looking"), "");
    var query = "?latitude=" + point.lat.toFixed(6) + "&longitude=" + point.lng.toFixed(6);
    fetch("/api/v1/geo/locate" + query, { headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : Promise.reject(answer.status); })
      .then(function (found) {
        if (mine !== asked) { return; }  // the pin moved again meanwhile
        if (found.method === "outside" || !found.ward_name) {
          say(t("js_pin_outside").replace("{city}", status.dataset.city || ""), "outside");
        } else if (found.approximate) {
          say(t("js_pin_ward_approximate").replace("{ward}", found.ward_name), "approximate");
        } else {
          say(t("js_pin_ward").replace("{ward}", found.ward_name), "found");
        }
      }, function () {
        if (mine === asked) { say(t("js_pin_failed"), "outside"); }
      });
  }

  function show(point) {
    if (!map) { return; }
    if (marker) {
      marker.setLatLng(point);
      return;
    }
    marker = L.marker(point, { draggable: true, autoPan: true, keyboard: true, alt: t("js_pin_alt") });
    marker.on("dragend", function () { place(marker.getLatLng(), false); });
    marker.addTo(map);
  }

  function place(point, fromInputs) {
    if (!fromInputs) {
      latitude.value = point.lat.toFixed(6);
      longitude.value = point.lng.toFixed(6);
    }
    show(point);
    locate(point);
  }

  function typed() {
    var lat = parseFloat(latitude.value.replace(",", "."));
    var lon = parseFloat(longitude.value.replace(",", "."));
    if (isNaN(lat) || isNaN(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) { return null; }
    return L.latLng(lat, lon);
  }

  if (element && window.L && civic) {
    map = civic.create(element);
    document.getElementById("map-hint").hidden = false;
    map.on("click", function (event) { place(event.latlng, false); });
    var start = typed();
    if (start) { show(start); locate(start); }
  }
  [latitude, longitude].forEach(function (input) {
    input.addEventListener("change", function () {
      var point = typed();
      if (!point) { return; }
      place(point, true);
      if (map && map.cityBounds.contains(point)) { map.panTo(point); }
    });
  });

  if (!button || !("geolocation" in navigator)) { return; }
  button.hidden = false;
  var refusals = { 1: t("js_location_denied"), 2: t("js_location_unavailable"), 3: t("js_location_timeout") };
  button.addEventListener("click", function () {
    button.disabled = true;
    say(t("js_location_asking"), "");
    navigator.geolocation.getCurrentPosition(function (position) {
      button.disabled = false;
      var point = L.latLng(position.coords.latitude, position.coords.longitude);
      place(point, false);
      if (map) { map.setView(point, Math.max(map.getZoom(), 16)); }
    }, function (error) {
      button.disabled = false;
      say(refusals[error.code] || refusals[2], "outside");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
}());
