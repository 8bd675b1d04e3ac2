// Draws the dashboard's charts from the data-* attributes of the panels htmx swaps in.
// Kept out of the templates (no inline script): every click on a bar drills down to the
// breach list the bar counts (data-drill + the bar's unit code).
(function () {
  function draw(el) {
    if (el.dataset.drawn || typeof echarts === "undefined") return;
    el.dataset.drawn = "1";
    var data = JSON.parse(el.dataset.chart);
    var chart = echarts.init(el, null, { renderer: "svg" });
    if (el.dataset.kind === "ontime") {
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { data: ["Tiếp nhận đúng hạn (%)", "Giải quyết đúng hạn (%)"] },
        grid: { left: 8, right: 16, bottom: 8, containLabel: true },
        xAxis: { type: "value", max: 100 },
        yAxis: { type: "category", data: data.units, axisLabel: { width: 180, overflow: "truncate" } },
        series: [
          { name: "Tiếp nhận đúng hạn (%)", type: "bar", data: data.acknowledge, itemStyle: { color: "#0b4f8a" } },
          { name: "Giải quyết đúng hạn (%)", type: "bar", data: data.resolve, itemStyle: { color: "#1e6b2f" } }
        ]
      });
      chart.on("click", function (p) {
        window.location = el.dataset.drill + "&unit=" + encodeURIComponent(data.codes[p.dataIndex]);
      });
    } else if (el.dataset.kind === "volume") {
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        grid: { left: 8, right: 16, bottom: 32, containLabel: true },
        xAxis: { type: "category", data: data.days },
        yAxis: { type: "value", minInterval: 1 },
        legend: { type: "scroll", bottom: 0 },
        series: Object.keys(data.series).map(function (name) {
          return { name: name, type: "bar", stack: "volume", data: data.series[name] };
        })
      });
      // A bar opens the ticket search for the tickets it counts (no link: none exact).
      chart.on("click", function (p) {
        var link = (data.links[p.seriesName] || [])[p.dataIndex];
        if (link) window.location = link;
      });
    }
  }
  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(draw);
  }
  document.addEventListener("htmx:afterSettle", function (e) { drawAll(e.target); });
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
})();
