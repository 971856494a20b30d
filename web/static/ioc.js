// The IOC wall: draws the overview cards and the subsystem charts from /api/v1/ioc, refreshing every 30 s.
(function () {
  "use strict";
  var charts = {};
  var colours = ["#d84a3a", "#3b82c4", "#2e9e5b", "#d89b2b", "#8e5bc4", "#2aa4a8"];
  // the page's words from the gettext catalogue (see web/pages/common.py js_messages), times in the city's zone
  var root = document.documentElement;
  var messages = JSON.parse(root.dataset.messages || "{}");
  var locale = root.lang === "en" ? "en-GB" : "vi-VN";
  var zone = root.dataset.timezone || "UTC";
  function t(key) { return messages[key] || key; }

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(url + " " + r.status); }
      return r.json();
    });
  }

  function line(canvas, labels, values, small) {
    var key = canvas.dataset.code || canvas.dataset.metric;
    if (charts[key]) { charts[key].data.labels = labels; charts[key].data.datasets[0].data = values; charts[key].update("none"); return; }
    charts[key] = new Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: [{ data: values, borderColor: colours[Object.keys(charts).length % colours.length],
        backgroundColor: "transparent", pointRadius: 0, borderWidth: 2, tension: 0.25 }] },
      options: { animation: false, responsive: true, maintainAspectRatio: !small, plugins: { legend: { display: false } },
        scales: { x: { display: !small, ticks: { color: "#9fb0c2", maxTicksLimit: 6 } },
                  y: { display: !small, ticks: { color: "#9fb0c2" } } } }
    });
  }

  function time(iso) { return new Date(iso).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", timeZone: zone }); }

  function overview(section) {
    fetchJson(section.dataset.source).then(function (data) {
      var alerts = document.getElementById("alerts");
      alerts.innerHTML = "";
      data.alerts.forEach(function (a) {
        var li = document.createElement("li");
        var wards = JSON.parse(alerts.dataset.wards || "{}");
        li.textContent = a.text + (a.dimension ? " · " + (wards[a.dimension] || a.dimension) : "") + " · " + t("js_ioc_since") + " " + time(a.since);
        alerts.appendChild(li);
      });
      if (!data.alerts.length) { var none = document.createElement("li"); none.className = "none"; none.textContent = t("js_ioc_no_alerts"); alerts.appendChild(none); }
      data.subsystems.forEach(function (s) {
        var card = document.getElementById("card-" + s.code);
        if (!card) { return; }
        var dl = card.querySelector(".kpis");
        dl.innerHTML = "";
        s.headline.forEach(function (k) {
          var dt = document.createElement("dt"); dt.textContent = k.label;
          var dd = document.createElement("dd"); dd.textContent = k.value.toLocaleString(locale) + " " + k.unit;
          dl.appendChild(dt); dl.appendChild(dd);
        });
        card.querySelector(".health").textContent = s.healthy ? "● " + t("js_ioc_healthy") : "● " + (s.last_error || t("js_ioc_no_data"));
        card.classList.toggle("down", !s.healthy);
      });
      section.querySelectorAll("canvas.spark").forEach(function (canvas) {
        fetchJson("/api/v1/ioc/subsystems/" + canvas.dataset.code + "?hours=6").then(function (detail) {
          var first = detail.metrics.find(function (m) { return m.series.length; });
          if (first) { line(canvas, first.series.map(function (p) { return time(p.at); }), first.series.map(function (p) { return p.value; }), true); }
        });
      });
      section.dataset.loaded = "1";
    }).catch(function (e) { console.error(e); });
  }

  function subsystem(section) {
    fetchJson(section.dataset.source).then(function (data) {
      data.metrics.forEach(function (m) {
        var canvas = section.querySelector('canvas[data-metric="' + m.name + '"]');
        if (canvas) { line(canvas, m.series.map(function (p) { return time(p.at); }), m.series.map(function (p) { return p.value; }), false); }
      });
      section.dataset.loaded = "1";
    }).catch(function (e) { console.error(e); });
  }

  function tick() {
    var clock = document.getElementById("clock");
    if (clock) { clock.textContent = new Date().toLocaleString(locale, { timeZone: zone }); }
    var cards = document.getElementById("cards");
    if (cards) { overview(cards); }
    var section = document.getElementById("charts");
    if (section) { subsystem(section); }
  }
  tick();
  setInterval(tick, 30000);
}());
