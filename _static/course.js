// Course figures on the website: keep plotly's text and grid readable when the reader switches
// between the light and dark themes (the figures themselves have transparent backgrounds).
(function () {
  function themeColours() {
    var dark = document.documentElement.dataset.theme === "dark";
    return dark
      ? { font: "#d8d8d8", grid: "rgba(200,200,200,0.18)" }
      : { font: "#333333", grid: "rgba(128,128,128,0.25)" };
  }
  function restyle(div) {
    if (!window.Plotly || !div.layout) return;
    var c = themeColours();
    var update = { "font.color": c.font };
    Object.keys(div.layout).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) update[key + ".gridcolor"] = c.grid;
    });
    window.Plotly.relayout(div, update);
  }
  function restyleAll() {
    document.querySelectorAll(".js-plotly-plot").forEach(restyle);
  }
  document.addEventListener("DOMContentLoaded", function () {
    restyleAll();
    new MutationObserver(restyleAll).observe(document.documentElement, {
      attributes: true,
      attributeFilter: ["data-theme"],
    });
  });
})();
