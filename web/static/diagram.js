/* Process diagrams with bpmn-js's navigated viewer: each [data-diagrams] element names a JSON source of
   {diagrams: [{file, name, xml, done, open, flows, breached, ..., overlays}]}. The server decides every mark and
   every word; this file only draws them. When all are drawn the element gets data-ready="true" and
   data-warnings (the import warnings of all its diagrams together), which the tests read. */
(function () {
  "use strict";
  var MARKS = ["done", "flows", "active", "open", "waiting", "interrupted", "warning", "breached"];

  function overlay(item) {
    var box = document.createElement("div");
    box.className = "gf-overlay gf-overlay-" + item.level;
    box.setAttribute("data-element", item.element);
    [item.level_label, item.due, item.left].forEach(function (text) {
      var line = document.createElement("span");
      line.textContent = text;
      box.appendChild(line);
    });
    return box;
  }

  function draw(holder, diagram) {
    var section = document.createElement("section");
    section.className = "diagram";
    section.setAttribute("data-file", diagram.file);
    var title = document.createElement("h3");
    title.textContent = diagram.name;
    var canvas = document.createElement("div");
    canvas.className = "diagram-canvas";
    section.appendChild(title);
    section.appendChild(canvas);
    holder.appendChild(section);
    var viewer = new window.BpmnJS({ container: canvas });
    return viewer.importXML(diagram.xml).then(function (result) {
      var drawn = viewer.get("canvas"), registry = viewer.get("elementRegistry"), overlays = viewer.get("overlays");
      drawn.zoom("fit-viewport");
      var focus = (diagram.breached || []).concat(diagram.open || [], diagram.warning || [])[0];
      if (canvas.clientWidth < 600 && focus && registry.get(focus)) {
        drawn.zoom(0.8);  // on a phone the whole diagram is too small to read: show where the case stands
        drawn.scrollToElement(registry.get(focus), { top: 60, bottom: 60, left: 40, right: 40 });
      }
      MARKS.forEach(function (mark) {
        (diagram[mark] || []).forEach(function (id) {
          if (registry.get(id)) { drawn.addMarker(id, "gf-" + mark); }
        });
      });
      (diagram.overlays || []).forEach(function (item) {
        if (registry.get(item.element)) {
          overlays.add(item.element, "gf-clock", { position: { bottom: -4, left: -10 }, html: overlay(item) });
        }
      });
      section.setAttribute("data-warnings", String(result.warnings.length));
      return result.warnings.length;
    });
  }

  function load(holder) {
    var status = holder.querySelector(".diagram-status");
    fetch(holder.getAttribute("data-diagrams"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (found) {
        var drawings = found.diagrams.map(function (diagram) { return draw(holder, diagram); });
        return Promise.all(drawings);
      })
      .then(function (counts) {
        var warnings = counts.reduce(function (sum, n) { return sum + n; }, 0);
        if (status) { status.remove(); }
        holder.setAttribute("data-warnings", String(warnings));
        holder.setAttribute("data-ready", "true");
      })
      .catch(function (error) {
        if (status) { status.textContent = holder.getAttribute("data-failed"); }
        holder.setAttribute("data-error", String(error && error.message || error));
        holder.setAttribute("data-ready", "false");
      });
  }

  document.querySelectorAll("[data-diagrams]").forEach(load);
}());
