// The city's map for the public pages (Leaflet, vendored under /static/vendor/leaflet/). Everything it
// needs comes from the container's data-* attributes (see web/geo.py map_frame): the tile URL template and
// its credit (empty: offline, no background), the city's centre and bounds, and where to read the wards'
// outlines (shown with their licence) or, when none are imported, their centres.
(function () {
  "use strict";
  // the map's words from the gettext catalogue (web/pages/common.py js_messages, on the map's element)
  var holder = document.querySelector(".citymap[data-messages]");
  var messages = JSON.parse((holder && holder.dataset.messages) || "{}");
  function t(key) { return messages[key] || key; }

  function escape(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  function numbers(text) { return (text || "").split(",").map(Number); }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : Promise.reject(answer.status); });
  }

  function outlines(map, found) {
    L.geoJSON(found.features, { className: "ward-outline", interactive: false, weight: 2, fillOpacity: 0.06 })
      .addTo(map);
    var credit = t("js_map_boundaries") + ": " + (found.attribution || found.source || "");
    if (found.licence) { credit += " (" + t("js_map_licence") + ": " + found.licence + ")"; }
    map.attributionControl.addAttribution(escape(credit));
  }

  function centres(map, url) {
    return getJSON(url).then(function (found) {
      found.centres.forEach(function (centre) {
        var name = centre.ward_name + (centre.unit !== centre.ward ? " (" + centre.unit_name + ")" : "");
        L.circleMarker([centre.latitude, centre.longitude], { className: "ward-centre", radius: 6, weight: 1 })
          .bindTooltip(escape(name))
          .addTo(map);
      });
      map.attributionControl.addAttribution(escape(t("js_map_centres_only")));
    });
  }

  // Draws the map in the element and resolves when the wards are on it.
  function create(element) {
    var data = element.dataset;
    var b = numbers(data.bounds);
    var bounds = L.latLngBounds([b[0], b[1]], [b[2], b[3]]);
    element.hidden = false;
    var map = L.map(element, { minZoom: 10, maxZoom: 19 });
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    // the first view, set once without animation: the city's centre at the zoom that shows its bounds
    map.setView(numbers(data.centre), map.getBoundsZoom(bounds), { animate: false });
    if (data.tiles) {
      L.tileLayer(data.tiles, { maxZoom: 19, attribution: escape(data.attribution || "") }).addTo(map);
    } else {
      element.classList.add("offline");
    }
    map.cityBounds = bounds;
    map.ready = getJSON(data.boundaries).then(function (found) {
      if (found.features.features.length) { outlines(map, found); return null; }
      return centres(map, data.centres);
    }).catch(function () { return null; });
    return map;
  }

  window.CivicMap = { create: create, t: t, escape: escape, getJSON: getJSON };
}());
