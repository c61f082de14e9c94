// Ballast report renderer: draws the chart specs embedded in the page (script#ballast-charts)
// with uPlot. Drag on a chart to zoom into a time window, double-click to reset; the legend
// shows the values under the cursor. When done it writes "charts=N empty=M errors=K" into
// #report-status, which the headless-browser test reads.
(function () {
  "use strict";
  var status = document.getElementById("report-status");
  var errors = 0;
  window.addEventListener("error", function (e) {
    errors += 1;
    if (status) status.textContent = "error: " + e.message;
  });

  function trim(x, d) {
    var t = x.toFixed(d);
    return t.indexOf(".") < 0 ? t : t.replace(/0+$/, "").replace(/\.$/, "");
  }
  function usd(v) {
    if (v == null || !isFinite(v)) return "–";
    var a = Math.abs(v);
    if (a >= 1e9) return trim(v / 1e9, 2) + "B";
    if (a >= 1e6) return trim(v / 1e6, 2) + "M";
    if (a >= 1e3) return trim(v / 1e3, 2) + "k";
    return trim(v, a >= 1 || a === 0 ? 0 : 3);
  }
  function price(v) {
    if (v == null || !isFinite(v)) return "–";
    var a = Math.abs(v);
    return a >= 1000 ? usd(v) : trim(v, a >= 10 ? 2 : a >= 0.1 ? 4 : 6);
  }
  function pct(v) {
    if (v == null || !isFinite(v)) return "–";
    return trim(v * 100, Math.abs(v) >= 0.1 ? 0 : 2) + " %";
  }
  function count(v) {
    return v == null || !isFinite(v) ? "–" : trim(v, 0);
  }
  var FMT = { usd: usd, price: price, percent: pct, count: count };

  function xFormatter(spec) {
    var ax = spec.x_axis;
    if (spec.kind === "bars") {
      return function (v) {
        var i = Math.round(v);
        return i === v && spec.x_labels[i] != null ? spec.x_labels[i] : "";
      };
    }
    if (ax.start_unix_s != null) {
      var MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
      return function (v) {
        var d = new Date((ax.start_unix_s + v * ax.unit_s) * 1000);
        var day = MON[d.getUTCMonth()] + " " + d.getUTCDate();
        var hm = d.toISOString().slice(11, 16);
        return hm === "00:00" ? day : day + " " + hm;
      };
    }
    return function (v) {
      var a = Math.abs(v);
      return trim(v, a >= 10 ? 0 : a >= 1 ? 2 : 3);
    };
  }

  function markerHook(spec) {
    return function (u) {
      var ctx = u.ctx;
      var left = u.bbox.left, right = u.bbox.left + u.bbox.width;
      spec.markers.forEach(function (m, k) {
        var x = u.valToPos(m.x, "x", true);
        if (m.to_x != null) {
          // A window: shaded from x to to_x (clipped to the plot), its label at the top.
          var x1 = Math.max(left, x), x2 = Math.min(right, u.valToPos(m.to_x, "x", true));
          if (x2 < x1) return;
          ctx.save();
          ctx.fillStyle = m.color + "26";
          ctx.fillRect(x1, u.bbox.top, Math.max(x2 - x1, devicePixelRatio), u.bbox.height);
          ctx.fillStyle = m.color;
          ctx.font = 10 * devicePixelRatio + "px system-ui, sans-serif";
          ctx.fillText(m.label, x1 + 2, u.bbox.top + u.bbox.height - (4 + 12 * (k % 3)) * devicePixelRatio);
          ctx.restore();
          return;
        }
        if (x < left || x > right) return;
        ctx.save();
        ctx.strokeStyle = m.color;
        ctx.fillStyle = m.color;
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.font = 11 * devicePixelRatio + "px system-ui, sans-serif";
        ctx.fillText(m.label, x + 4, u.bbox.top + (12 + 12 * (k % 4)) * devicePixelRatio);
        ctx.restore();
      });
    };
  }

  function options(spec, width) {
    var fy = FMT[spec.y_unit] || count;
    var fx = xFormatter(spec);
    var bars = spec.kind === "bars";
    var dated = spec.x_axis.start_unix_s != null;
    var series = [{ label: bars ? "bin" : dated ? "time (UTC)" : spec.x_axis.label.split(" (")[0], value: function (u, v) { return v == null ? "–" : fx(v); } }];
    var nBars = spec.series.length;
    spec.series.forEach(function (s, k) {
      var o = {
        label: s.label,
        stroke: s.color,
        width: s.width != null ? s.width : bars ? 1 : 1.6,
        value: function (u, v) { return fy(v); },
        spanGaps: s.span_gaps,
      };
      if (s.dashed) o.dash = [5, 4];
      if (s.points_only) {
        o.paths = function () { return null; };
        o.points = { show: true, size: 7, fill: s.color };
      }
      if (bars) {
        o.fill = s.color + "cc";
        // Two series side by side: the first left of each category, the second right of it.
        o.paths = nBars === 2
          ? uPlot.paths.bars({ size: [0.42, 60], align: k === 0 ? -1 : 1 })
          : uPlot.paths.bars({ size: [0.85, 80] });
        o.points = { show: false };
      }
      series.push(o);
    });
    var bands = [];
    spec.series.forEach(function (s, i) {
      if (s.fill_to != null) bands.push({ series: [i + 1, s.fill_to + 1], fill: s.color + "40" });
    });
    var xAxis = { label: spec.x_axis.label, space: dated ? 90 : 50, values: function (u, vals) { return vals.map(fx); } };
    if (bars) {
      xAxis.splits = function () { return spec.x; };
      xAxis.rotate = 0;
      xAxis.size = 40;
    }
    return {
      width: width,
      height: 260,
      title: spec.title,
      scales: {
        x: bars ? { time: false, range: [-0.6, spec.x.length - 0.4] } : { time: false },
        y: spec.y_log ? { distr: 3 } : { range: function (u, lo, hi) { return [Math.min(0, lo), hi > lo ? hi * 1.05 : lo + 1]; } },
      },
      axes: [
        xAxis,
        { label: spec.y_label, size: 64, values: function (u, vals) { return vals.map(fy); } },
      ],
      series: series,
      bands: bands,
      cursor: { drag: { x: !bars, y: false } },
      legend: { live: true },
      hooks: { draw: [markerHook(spec)] },
    };
  }

  var specs = JSON.parse(document.getElementById("ballast-charts").textContent);
  var grid = document.getElementById("charts");
  var empty = 0;
  // All boxes first, so the grid has its final columns before any chart measures its width.
  var boxes = specs.map(function (spec) {
    var box = document.createElement("figure");
    box.className = "chart";
    box.id = "chart-" + spec.id;
    grid.appendChild(box);
    return box;
  });
  specs.forEach(function (spec, k) {
    var box = boxes[k];
    var data = [spec.x].concat(spec.series.map(function (s) { return s.values; }));
    var points = spec.series.reduce(function (n, s) {
      return n + s.values.filter(function (v) { return v != null; }).length;
    }, 0);
    box.setAttribute("data-points", String(points));
    if (points === 0 || spec.x.length === 0) empty += 1;
    new uPlot(options(spec, Math.max(320, box.clientWidth - 8)), data, box);
    if (spec.note) {
      var cap = document.createElement("figcaption");
      cap.textContent = spec.note;
      box.appendChild(cap);
    }
  });
  if (status && errors === 0) {
    status.textContent = "charts=" + specs.length + " empty=" + empty + " errors=" + errors;
  }
})();
