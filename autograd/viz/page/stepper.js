(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("step-data").textContent);
  var steps = data.steps, last = steps.length - 1, k = 0;
  var counter = document.getElementById("step-counter");
  var explanation = document.getElementById("step-explanation");
  var next = document.getElementById("next"), prev = document.getElementById("prev");
  var fontUp = document.getElementById("font-up"), fontDown = document.getElementById("font-down");
  var drawing = document.getElementById("drawing");
  var header = document.querySelector("header");
  var ZOOMS = [0.75, 0.85, 1, 1.15, 1.3, 1.5, 1.75, 2, 2.5], zoomAt = 2;
  var NODE_FONT_PX = 11 * 4 / 3;  // the drawing's node text (11 pt) at scale 1
  var MIN_TEXT_PX = 12.1;  // 12 px, with room for rounding
  var KINDS = {forward: "forward", backward: "backward", summary: "summary"};

  // Each layout (the chosen direction, and top-to-bottom for narrow windows) is one SVG.
  var layouts = Array.prototype.map.call(document.querySelectorAll("#drawing .layout"),
    function (el) {
      var svg = el.querySelector("svg"), prefix = el.getAttribute("data-prefix") || "";
      var box = svg.viewBox.baseVal;
      var natural = {w: box.width * 4 / 3, h: box.height * 4 / 3};
      svg.removeAttribute("width");
      svg.removeAttribute("height");
      var nodes = {};
      data.nodes.forEach(function (info) {
        var group = document.getElementById(prefix + "node-" + info.id);
        if (!group) { return; }
        var texts = group.getElementsByTagName("text");
        nodes[info.id] = {info: info, group: group, texts: texts,
                          dataText: texts[texts.length - 2], gradText: texts[texts.length - 1],
                          shape: group.querySelector("polygon")};
      });
      var edges = {};
      Array.prototype.forEach.call(el.querySelectorAll("g.edge"), function (edge) {
        var title = edge.querySelector("title").textContent;
        (edges[title] = edges[title] || []).push(edge);
      });
      return {el: el, svg: svg, prefix: prefix, natural: natural, nodes: nodes, edges: edges,
              rankdir: el.getAttribute("data-rankdir")};
    });
  var active = layouts[0];

  function fit() {
    var style = window.getComputedStyle(drawing);
    var padX = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    var padY = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
    var width = drawing.clientWidth - padX;
    // The header's height changes from step to step; the layout must not, so the room
    // below it is estimated from the window alone.
    var height = Math.max(window.innerHeight - 240 * ZOOMS[zoomAt] - padY, 200);
    // A window taller than wide (a phone, a projector at 150% beside notes) reads the
    // graph top to bottom; a wide one in the direction asked for.
    var narrow = window.innerWidth < window.innerHeight;
    var best = layouts[0];
    layouts.forEach(function (layout) {
      if (narrow && layout.rankdir === "TB") { best = layout; }
    });
    var bestScale = Math.min(width / best.natural.w, height / best.natural.h);
    var zoom = ZOOMS[zoomAt];
    var minScale = MIN_TEXT_PX / NODE_FONT_PX;
    // Fitted to the window, but never so small that node text drops below 12 px; the
    // font control scales the result (A- may go below, on request).
    var scale = Math.max(minScale, Math.min(bestScale, 2)) * zoom;
    layouts.forEach(function (layout) { layout.el.hidden = layout !== best; });
    active = best;
    best.svg.style.width = (best.natural.w * scale) + "px";
    best.svg.style.height = (best.natural.h * scale) + "px";
    document.body.setAttribute("data-layout", best.rankdir);
  }

  var marked = [];
  function mark(element, cls) {
    if (element) { element.classList.add(cls); marked.push([element, cls]); }
  }
  function showNode(node, dataKnown, gradKnown) {
    var info = node.info;
    node.dataText.textContent = "data " + (dataKnown ? info.data_text : "?");
    node.dataText.setAttribute("class", dataKnown ? "" : "unknown");
    node.gradText.textContent = "grad " + (gradKnown ? info.grad_text : "?");
    node.gradText.setAttribute("class", gradKnown ? "known" : "unknown");
    if (data.color_by !== "role" && node.shape) {
      var dark = gradKnown && info.dark;
      node.shape.setAttribute("fill", gradKnown ? info.fill : data.not_reached_color);
      Array.prototype.forEach.call(node.texts, function (t) {
        t.setAttribute("fill", dark ? "white" : "black");
      });
    }
  }
  function scrollTo(group) {
    // Bring the node into the part of the window below the sticky header.
    var box = group.getBoundingClientRect(), view = drawing.getBoundingClientRect();
    if (box.left < view.left || box.right > view.right) {
      drawing.scrollLeft += (box.left + box.right) / 2 - (view.left + view.right) / 2;
    }
    var sticky = window.getComputedStyle(header).position === "sticky";
    var top = sticky ? header.getBoundingClientRect().bottom : 0, bottom = window.innerHeight;
    if (box.top < top || box.bottom > bottom) {
      window.scrollBy(0, (box.top + box.bottom) / 2 - (top + bottom) / 2);
    }
  }
  function render() {
    marked.forEach(function (m) { m[0].classList.remove(m[1]); });
    marked = [];
    var step = steps[k];
    layouts.forEach(function (layout) {
      Object.keys(layout.nodes).forEach(function (id) {
        var info = layout.nodes[id].info;
        showNode(layout.nodes[id], info.fstep <= k, info.bstep <= k);
      });
      if (step.node !== null && layout.nodes[step.node]) {
        mark(layout.nodes[step.node].group, "current");
      }
      step.feeds.nodes.forEach(function (id) {
        if (layout.nodes[id]) { mark(layout.nodes[id].group, "feeds"); }
      });
      step.feeds.ops.forEach(function (id) {
        mark(document.getElementById(layout.prefix + "node-" + id), "feeds");
      });
      step.feeds.edges.forEach(function (title) {
        (layout.edges[title] || []).forEach(function (edge) { mark(edge, "feeds"); });
      });
    });
    counter.textContent = k + " / " + last;
    explanation.textContent = "";
    var words = document.createElement("p");
    words.className = "words";
    if (k > 0) {
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = "Step " + k + " (" + KINDS[step.kind] + "): ";
      words.appendChild(kind);
    }
    words.appendChild(document.createTextNode(step.words));
    explanation.appendChild(words);
    if (step.formula) {
      var formula = document.createElement("div");
      formula.className = "formula";
      formula.textContent = step.formula;
      explanation.appendChild(formula);
    }
    prev.disabled = k === 0;
    next.disabled = k === last;
    // last, once the explanation (and so the header's height) is final
    if (step.node !== null && active.nodes[step.node]) { scrollTo(active.nodes[step.node].group); }
  }
  function go(to) {
    to = Math.max(0, Math.min(last, to));
    if (to !== k) { k = to; render(); }
  }
  function zoom(by) {
    var to = Math.max(0, Math.min(ZOOMS.length - 1, zoomAt + by));
    if (to === zoomAt) { return; }
    zoomAt = to;
    document.documentElement.style.setProperty("--zoom", String(ZOOMS[zoomAt]));
    fontDown.disabled = zoomAt === 0;
    fontUp.disabled = zoomAt === ZOOMS.length - 1;
    fit();
  }
  next.addEventListener("click", function () { go(k + 1); });
  prev.addEventListener("click", function () { go(k - 1); });
  fontUp.addEventListener("click", function () { zoom(1); });
  fontDown.addEventListener("click", function () { zoom(-1); });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var keys = {ArrowRight: function () { go(k + 1); }, ArrowLeft: function () { go(k - 1); },
                Home: function () { go(0); }, End: function () { go(last); },
                "+": function () { zoom(1); }, "=": function () { zoom(1); },
                "-": function () { zoom(-1); }};
    if (keys[event.key]) { keys[event.key](); event.preventDefault(); }
  });
  window.addEventListener("resize", fit);
  fit();
  render();
})();
