/* The planning studio's page: a Leaflet canvas map of the plan, the live scorecard, edits, the solver.
 * Every name from the data is shown with textContent, never as HTML. */
"use strict";
(function () {
  const RED = "#D62728", BORDER = "#1A1A1A", SQ = "#0B3D91";
  const $ = (id) => document.getElementById(id);
  let T = null;        // territory: shapes, borders, ties (fixed)
  let S = null;        // state from the server (changes with every edit)
  let map = null, candMap = null, renderer = null, candView = null;
  const polys = [];    // one polygon per municipality
  const styleKeys = [];
  let edgeLines = [], edgeKeys = [];
  let borderGroup, sqGroup, tieGroups = {}, candPolys = [], candBorders = null;
  let neighbours = [];  // municipality -> neighbouring municipalities (shared border)
  let selected = new Set();
  let cardPlan = null;
  let tool = "select";
  let pending = null;   // timing of the edit being made (for the benchmark)
  let jobTimer = null;
  const patterns = {};
  let solving = false;  // an api/solve request on its way
  window.ldTimings = [];

  // ----- server ---------------------------------------------------------------------------------
  async function call(method, path, body, raw) {
    const options = {method, headers: {"X-Studio": "1"}, credentials: "same-origin"};
    if (raw !== undefined) { options.body = raw; options.headers["Content-Type"] = "text/csv"; }
    else if (body !== undefined) { options.body = JSON.stringify(body); options.headers["Content-Type"] = "application/json"; }
    let response;
    try { response = await fetch(path, options); }
    catch (err) { show(["The studio does not answer: is it still running? (" + err + ")"], true); throw err; }
    const data = await response.json().catch(() => ({error: ["unexpected answer from the studio (" + response.status + ")"]}));
    if (!response.ok) {
      if (data.state) { applyState(data.state); }
      show(data.error || ["refused"], true);
      const error = new Error((data.error || []).join("\n"));
      error.handled = true;
      throw error;
    }
    return data;
  }
  const post = (path, body) => call("POST", path, body);
  const get = (path) => call("GET", path);

  const queued = [];  // edits pressed while one is on its way: each is done, in order

  async function edit(op, clearSelection) {
    // the state the server answers, or null; an undo or redo pressed meanwhile waits its turn
    const key = JSON.stringify(op);
    if (pending) {  // waits its turn, but a double click's repeat of the edit on its way is dropped
      if (op.op === "undo" || op.op === "redo" || key !== pending.key) { queued.push(op); }
      return null;
    }
    pending = {start: performance.now(), op: op.op, key};
    try {
      const state = await post("api/edit", Object.assign({version: S.version}, op));
      const answered = performance.now();
      if (clearSelection) { selected = new Set(); }
      applyState(state);
      const started = pending, applied = performance.now();
      requestAnimationFrame(() => requestAnimationFrame(() => {
        const now = performance.now();
        window.ldTimings.push({op: started.op, ms: now - started.start, server: answered - started.start,
                               apply: applied - answered, paint: now - applied});
      }));
      return state;
    } catch (err) {
      queued.length = 0;  // refused (nothing left to undo, say): the presses after it are dropped with it
      if (!err.handled) { throw err; }
      return null;
    } finally {
      pending = null;
      if (queued.length) { edit(queued.shift()); }
    }
  }

  function show(lines, error, warning) {
    const box = $("message");
    box.textContent = "";
    box.className = error ? "error" : (warning ? "warning" : "");
    (Array.isArray(lines) ? lines : [lines]).forEach((line, i) => {
      if (i) { box.appendChild(document.createElement("br")); }
      box.appendChild(document.createTextNode(line));
    });
    if (box.textContent) {  // the box stays on top while the panel scrolls: let the planner put it away
      const close = document.createElement("button");
      close.className = "dismiss";
      close.title = "Dismiss this message";
      close.setAttribute("aria-label", close.title);
      close.addEventListener("click", () => { box.textContent = ""; box.className = ""; });
      box.prepend(close);
    }
  }

  // ----- drawing --------------------------------------------------------------------------------
  function legend() {  // what the lines and hatching on the map mean, folded under its title on a small map
    const control = L.control({position: "bottomleft"});
    control.onAdd = () => {
      const box = L.DomUtil.create("details", "ld-legend");
      L.DomEvent.disableClickPropagation(box);
      L.DomUtil.create("summary", "", box).textContent = "Legend";
      [["border-color: " + BORDER, "area plan border"],
       ["border-color: " + RED + "; border-style: dashed; background: repeating-linear-gradient(45deg, #fff 0 3px, " + RED + " 3px 5px)",
        "plan that breaks a rule (hatched, red dashed border)"],
       ["border-color: #222; border-style: dashed", "locked municipality or plan"],
       ["border-color: #e67e00; border-style: dashed", "bridge: joins parts that share no border"]].forEach(([css, text]) => {
        const row = L.DomUtil.create("div", "", box);
        const swatch = L.DomUtil.create("span", "swatch", row);
        swatch.style.cssText = css;
        row.appendChild(document.createTextNode(text));
      });
      return box;
    };
    return control;
  }

  function hatch(colour) {
    if (!patterns[colour]) {
      const c = document.createElement("canvas");
      c.width = c.height = 8;
      const g = c.getContext("2d");
      g.fillStyle = colour; g.fillRect(0, 0, 8, 8);
      g.strokeStyle = RED; g.lineWidth = 2;
      g.beginPath(); g.moveTo(0, 8); g.lineTo(8, 0); g.moveTo(-2, 2); g.lineTo(2, -2); g.moveTo(6, 10); g.lineTo(10, 6); g.stroke();
      patterns[colour] = g.createPattern(c, "repeat");
    }
    return patterns[colour];
  }

  function planRows(state) {
    const rows = {};
    state.scorecard.plans.forEach((r) => { rows[r.plan_id] = r; });
    return rows;
  }

  function municipalityStyle(state, rows, i) {
    const plan = state.assignment[i];
    const row = rows[plan];
    const colour = state.colours[plan] || "#999";
    const bad = row && !row.compliant;
    const locked = lockedSet.has(T.codes[i]) || lockedPlans.has(plan);
    const sel = selected.has(i);
    const key = colour + (bad ? "!" : "") + (locked ? "L" : "") + (sel ? "S" : "");
    return {key, style: {
      fillColor: bad ? hatch(colour) : colour, fillOpacity: 0.72,
      color: sel ? "#FFD400" : (locked ? "#222" : "#FFFFFF"), weight: sel ? 2.5 : (locked ? 1.4 : 0.5),
      dashArray: locked && !sel ? "3 3" : null}};
  }
  let lockedSet = new Set(), lockedPlans = new Set();

  function drawMunicipalities(state) {
    const rows = planRows(state);
    lockedSet = new Set(state.locked_municipalities);
    lockedPlans = new Set(state.locked_plans);
    for (let i = 0; i < polys.length; i++) {
      const s = municipalityStyle(state, rows, i);
      if (styleKeys[i] !== s.key) { polys[i].setStyle(s.style); styleKeys[i] = s.key; }
    }
  }

  function drawBorders(state) {
    const rows = planRows(state);
    for (let k = 0; k < T.edges.length; k++) {
      const [i, j] = T.edges[k];
      const a = state.assignment[i], b = state.assignment[j];
      let key = "";
      if (a !== b) { key = (rows[a] && !rows[a].compliant) || (rows[b] && !rows[b].compliant) ? "bad" : "ok"; }
      if (edgeKeys[k] === key) { continue; }
      edgeKeys[k] = key;
      if (!key) { if (edgeLines[k]) { borderGroup.removeLayer(edgeLines[k]); } continue; }
      const style = key === "bad" ? {color: RED, weight: 3, dashArray: "7 4"} : {color: BORDER, weight: 2.2, dashArray: null};
      if (!edgeLines[k]) {
        edgeLines[k] = L.polyline(T.edges[k][2], Object.assign({renderer, interactive: false}, style));
      } else { edgeLines[k].setStyle(style); }
      borderGroup.addLayer(edgeLines[k]);
    }
  }

  function drawTies(state) {
    Object.keys(tieGroups).forEach((kind) => {
      const group = tieGroups[kind];
      if (!map.hasLayer(group)) { return; }
      group.eachLayer((line) => {
        const cut = state.assignment[line.ldTie[0]] !== state.assignment[line.ldTie[1]];
        const dashArray = T.tie_lines[T.kinds.indexOf(kind)][0];  // each kind its own dashes, as on the maps
        line.setStyle(cut ? {color: RED, weight: 1.8, opacity: 0.9, dashArray} : {color: "#444", weight: 1.1, opacity: 0.7, dashArray});
      });
    });
  }

  function tooltip(i) {
    return () => {
      const el = document.createElement("div");
      el.className = "ld-tip";
      const plan = S.assignment[i];
      const row = planRows(S)[plan];
      const add = (label, text) => {
        const line = document.createElement("div");
        const b = document.createElement("b"); b.textContent = label + ": ";
        line.appendChild(b); line.appendChild(document.createTextNode(text)); el.appendChild(line);
      };
      add("Municipality", T.names[i] + " (" + T.codes[i] + ")");
      add("Population", fmt(T.population[i]));
      add("Area plan", (row ? row.name : plan) + (row && !row.compliant ? " (not compliant)" : ""));
      if (row) { add("Plan population", fmt(row.population) + " (floor " + fmt(row.floor) + ")"); }
      if (lockedSet.has(T.codes[i]) || lockedPlans.has(plan)) { add("Locked", "yes"); }
      return el;
    };
  }

  function buildMap() {
    map = L.map("map", {preferCanvas: true, zoomSnap: 0.25, boxZoom: false});
    renderer = L.canvas({padding: 0.3, tolerance: 1});
    L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
      {opacity: 0.45, maxZoom: 18, attribution: "&copy; OpenStreetMap contributors"}).addTo(map);
    map.fitBounds(T.bounds);
    neighbours = T.codes.map(() => []);
    T.edges.forEach(([i, j]) => { neighbours[i].push(j); neighbours[j].push(i); });
    for (let i = 0; i < T.codes.length; i++) {
      const poly = L.polygon(T.shapes[i], {renderer, weight: 0.5, color: "#FFFFFF", fillOpacity: 0.72, fillColor: "#999"});
      poly.bindTooltip(tooltip(i), {sticky: true});
      poly.on("click", (e) => onMunicipalityClick(i, e));
      poly.addTo(map);
      polys.push(poly);
    }
    borderGroup = L.featureGroup().addTo(map);
    (T.bridges || []).forEach(([i, j, metres]) => {  // joins of parts that share no border, as the maps draw them
      // on the municipalities' canvas: a canvas of its own would lie over theirs and take every click
      L.polyline([T.points[i], T.points[j]], {renderer, color: "#e67e00", weight: 2.5, dashArray: "6 5"})
        .bindTooltip(`bridge: ${T.names[i]} - ${T.names[j]}, ${fmt(metres)} m apart (they share no border)`)
        .addTo(map);
    });
    // optional layers are filled the first time they are switched on
    const overlays = {};
    if (T.status_quo) {
      sqGroup = L.featureGroup();
      sqGroup.ldFill = () => T.edges.forEach(([i, j, lines]) => {
        if (T.status_quo[i] !== T.status_quo[j]) {
          sqGroup.addLayer(L.polyline(lines, {renderer, interactive: false, color: SQ, weight: 2.5, dashArray: "3 6"}));
        }
      });
      overlays["Status quo area plans (blue dashes)"] = sqGroup;
    }
    T.kinds.forEach((kind, k) => {
      const group = L.featureGroup();
      group.ldFill = () => T.ties.forEach(([a, b, kk]) => {
        if (kk !== k) { return; }
        const line = L.polyline([T.points[a], T.points[b]], {renderer, interactive: false});
        line.ldTie = [a, b];
        group.addLayer(line);
      });
      tieGroups[kind] = group;
      overlays["Collaboration: " + T.kind_labels[k] + " (" + T.tie_lines[k][1] + " lines, grey kept, red cut)"] = group;
    });
    layerLists = overlays;
    legendControl = legend().addTo(map);
    fitControls();
    map.on("resize", fitControls);  // the window, or the map halved for a candidate
    map.on("overlayadd", (e) => {
      if (e.layer.ldFill) { const fill = e.layer.ldFill; e.layer.ldFill = null; fill(); }
      drawTies(S);
    });
    setupLasso();
  }

  const LAYERS_OPEN = 900;   // map width (px) from which the layers panel is open; narrower, an icon clear of the map
  const LEGEND_OPEN = [900, 650];   // map size (px) from which the legend is open; smaller, folded under its title
  let layerLists = {}, layersControl = null, legendControl = null, layersWide = null, legendRoomy = null;

  function fitControls() {
    // decided again whenever the map changes size; a panel the planner opened stays so until then
    const size = map.getSize();
    const wide = size.x >= LAYERS_OPEN;
    if (wide !== layersWide) {
      layersWide = wide;
      if (layersControl) { layersControl.remove(); }
      layersControl = L.control.layers(null, layerLists, {collapsed: !wide}).addTo(map);
    }
    const roomy = size.x >= LEGEND_OPEN[0] && size.y >= LEGEND_OPEN[1];
    if (roomy !== legendRoomy) { legendRoomy = roomy; legendControl.getContainer().open = roomy; }
  }

  // ----- selection tools -------------------------------------------------------------------------
  let painting = false, lassoPath = null, lassoLine = null;

  function setTool(value) {
    tool = value;
    document.body.classList.toggle("brush-on", tool === "brush");
    document.body.classList.toggle("lasso-on", tool === "lasso");
    if (tool === "select") { map.dragging.enable(); } else { map.dragging.disable(); }
  }

  function setupLasso() {
    map.on("mousedown", (e) => {
      if (tool === "brush") { painting = true; }
      if (tool === "lasso") { lassoPath = [e.latlng]; lassoLine = L.polyline(lassoPath, {renderer, color: "#000", weight: 1.5, dashArray: "4 3", interactive: false}).addTo(map); }
    });
    map.on("mousemove", (e) => {
      if (lassoPath) { lassoPath.push(e.latlng); lassoLine.setLatLngs(lassoPath); }
      if (painting) {
        const i = municipalityAt(e.latlng);
        if (i !== null && !selected.has(i)) { addToSelection([i]); }
      }
    });
    const end = () => {
      painting = false;
      if (lassoPath) {
        const ring = lassoPath.map((p) => [p.lat, p.lng]);
        map.removeLayer(lassoLine);
        lassoPath = null;
        if (ring.length > 2) {
          const inside = [];
          T.points.forEach((pt, i) => { if (pointInRing(pt, ring)) { inside.push(i); } });
          addToSelection(inside);
        }
      }
    };
    map.on("mouseup", end);
    document.addEventListener("mouseup", end);
  }

  let shapeBounds = null;

  function municipalityAt(latlng) {
    if (!shapeBounds) { shapeBounds = polys.map((p) => p.getBounds()); }
    const pt = [latlng.lat, latlng.lng];
    for (let i = 0; i < polys.length; i++) {
      if (!shapeBounds[i].contains(latlng)) { continue; }
      for (const rings of T.shapes[i]) {
        if (pointInRing(pt, rings[0]) && !rings.slice(1).some((hole) => pointInRing(pt, hole))) { return i; }
      }
    }
    return null;
  }

  function pointInRing(pt, ring) {
    let inside = false;
    for (let a = 0, b = ring.length - 1; a < ring.length; b = a++) {
      const [ya, xa] = ring[a], [yb, xb] = ring[b];
      if ((ya > pt[0]) !== (yb > pt[0]) && pt[1] < (xb - xa) * (pt[0] - ya) / (yb - ya) + xa) { inside = !inside; }
    }
    return inside;
  }

  function onMunicipalityClick(i, e) {
    if (tool !== "select") { if (tool === "brush") { addToSelection([i]); } return; }
    const extend = e.originalEvent && (e.originalEvent.shiftKey || e.originalEvent.ctrlKey || e.originalEvent.metaKey);
    if (extend) {
      if (selected.has(i)) { selected.delete(i); } else { selected.add(i); }
    } else { selected = new Set([i]); }
    cardPlan = S.assignment[i];
    refreshSelection();
    if (selected.size) { $("move").scrollIntoView({block: "nearest"}); }  // on a low window it was below the fold
  }

  function addToSelection(items) {
    items.forEach((i) => selected.add(i));
    cardPlan = mainPlan(selected) || cardPlan;
    refreshSelection();
  }

  function mainPlan(items) {  // the plan holding most of these municipalities: the card shows it
    const counts = new Map();
    items.forEach((i) => counts.set(S.assignment[i], (counts.get(S.assignment[i]) || 0) + 1));
    let best = null;
    counts.forEach((n, p) => { if (best === null || n > counts.get(best)) { best = p; } });
    return best;
  }

  function refreshSelection() {
    drawMunicipalities(S);
    renderSelection();
    renderCard();
    renderPlanTable();
  }

  // ----- panels ---------------------------------------------------------------------------------
  function fmt(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) { return "-"; }
    return Number(v).toLocaleString("en-US", {maximumFractionDigits: digits || 0, minimumFractionDigits: digits || 0});
  }
  const pct = (v) => (v === null || v === undefined ? "-" : (100 * v).toFixed(1) + "%");
  const signed = (v) => (v > 0 ? "+" : "") + fmt(v);

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    row.appendChild(td);
    return td;
  }

  function summaryRows(s) {
    const rows = [
      ["Area plans", fmt(s.plans)], ["Compliant", fmt(s.compliant_plans)],
      ["Not compliant", fmt(s.non_compliant_plans)], ["People in non-compliant plans", fmt(s.population_non_compliant)],
      ["Effective number of plans", fmt(s.effective_plans, 1)],
      ["Plan population min / median / max", fmt(s.min_population) + " / " + fmt(s.median_population) + " / " + fmt(s.max_population)],
      ["Collaboration kept", pct(s.collaboration_retained)], ["Cut edges", fmt(s.cut_edges)],
    ];
    if (s.collaboration_by_kind && s.collaboration_by_kind.union) { rows.push(["Unions of municipalities split", fmt(s.unions_split)]); }
    if (s.municipalities_moved !== undefined) {
      rows.push(["Moved from the status quo", fmt(s.municipalities_moved) + (s.municipalities_moved === 1 ? " municipality, " : " municipalities, ") + fmt(s.population_moved) + " people"]);
      rows.push(["Plans merged / split", fmt(s.plans_merged) + " / " + fmt(s.plans_split)]);
    }
    return rows;
  }

  const HEADLINE_CHANGES = 5;

  function renderHeadline(lines, bad) {
    // the words evaluate and propose print first; a change from the status quo is a line "- ..."
    const box = $("headline-words");
    box.textContent = "";
    let list = null, hidden = 0;
    lines.forEach((line) => {
      if (!line.startsWith("- ")) {
        list = null;
        const p = document.createElement("p"); p.textContent = line; box.appendChild(p);
        return;
      }
      if (!list) { list = document.createElement("ul"); list.className = "list"; box.appendChild(list); hidden = 0; }
      if (list.children.length < HEADLINE_CHANGES) {
        const li = document.createElement("li"); li.textContent = line.slice(2); list.appendChild(li);
      } else {
        hidden += 1;
        const more = list.querySelector("li.muted") || list.appendChild(Object.assign(document.createElement("li"), {className: "muted"}));
        more.textContent = "and " + hidden + " more";
      }
    });
    if (box.firstChild) { box.firstChild.className = bad ? "bad" : "ok"; }
  }

  function renderSummary() {
    renderHeadline(S.scorecard.headline, S.scorecard.summary.non_compliant_plans > 0);
    const table = $("summary");
    table.textContent = "";
    summaryRows(S.scorecard.summary).forEach(([k, v]) => {
      const tr = document.createElement("tr");
      cell(tr, k);
      const td = cell(tr, v, "num");
      if (k === "Not compliant" || k === "People in non-compliant plans") { td.classList.add(S.scorecard.summary.non_compliant_plans ? "bad" : "ok"); }
      table.appendChild(tr);
    });
    const list = $("violations");
    list.textContent = "";
    S.scorecard.summary.violations.slice(0, 12).forEach((line) => {
      const li = document.createElement("li"); li.textContent = line; list.appendChild(li);
    });
    if (S.scorecard.summary.violations.length > 12) {
      const li = document.createElement("li"); li.textContent = "and " + (S.scorecard.summary.violations.length - 12) + " more"; list.appendChild(li);
    }
  }

  const CLASS = {standard: "standard", high_density: "high density", mountain: "mountain", low_density: "low density"};
  const CLASS_SHORT = {standard: "std.", high_density: "high d.", mountain: "mount.", low_density: "low d."};  // the table's

  let tableRows = new Map(), tableOrder = "";

  function planRow(r) {
    const tr = document.createElement("tr");
    tr.dataset.plan = r.plan_id;
    if (!r.compliant) { tr.classList.add("bad"); }
    if (r.plan_id === cardPlan) { tr.classList.add("current"); }
    const sw = cell(tr, "");
    const span = document.createElement("span"); span.className = "swatch"; span.style.background = S.colours[r.plan_id] || "#999"; sw.appendChild(span);
    const nameCell = cell(tr, "", "name");  // a long name ends in "...", whole in its tooltip
    const name = document.createElement("span"); name.className = "plan-name"; name.textContent = r.name; name.title = r.name;
    nameCell.appendChild(name);
    if (lockedPlans.has(r.plan_id)) { const tag = document.createElement("span"); tag.className = "locked-tag"; tag.textContent = "locked"; nameCell.appendChild(tag); }
    cell(tr, fmt(r.population), "num pop");
    const klass = cell(tr, CLASS_SHORT[r["class"]] || r["class"], "class");
    klass.title = (CLASS[r["class"]] || r["class"]) + ": " + r.class_reason;
    cell(tr, fmt(r.floor), "num opt");  // "opt": left out on a narrow panel (the card has it)
    cell(tr, signed(r.margin), "num margin");
    const contig = cell(tr, r.contiguous ? (r.bridges ? "bridge" : "yes") : "NO", "num opt");
    if (r.bridges) { contig.title = "contiguous only through a bridge: parts that share no border (see the plan card)"; }
    const total = r.collaboration_kept + r.collaboration_cut;
    cell(tr, total > 0 ? pct(r.collaboration_kept / total) : "-", "num");
    if (S.has_status_quo) { cell(tr, fmt(r.moved_in), "num"); }
    tr.addEventListener("click", () => { cardPlan = r.plan_id; renderCard(); renderPlanTable(); });
    return tr;
  }

  function renderPlanTable() {
    // rows are rebuilt only where something shown changed, so an edit touches two or three rows
    const table = $("plan-table");
    const rows = S.scorecard.plans.slice().sort((a, b) => (a.compliant - b.compliant) || a.name.localeCompare(b.name));
    const keys = rows.map((r) => JSON.stringify([r, S.colours[r.plan_id], lockedPlans.has(r.plan_id), r.plan_id === cardPlan]));
    const order = rows.map((r) => r.plan_id).join("\n");
    if (order !== tableOrder) {
      const head = document.createElement("tr");
      ["", "Area plan", "People", "Class", "Floor", "Margin", "Contig.", "Collab. kept"].concat(S.has_status_quo ? ["Moved in"] : [])
        .forEach((h, i) => { const th = document.createElement("th"); th.textContent = h; if (i > 1 && i !== 3) { th.className = "num"; } head.appendChild(th); });
      head.children[3].className = "class";
      head.children[4].className = head.children[6].className = "num opt";
      const frag = document.createDocumentFragment();
      frag.appendChild(head);
      const next = new Map();
      rows.forEach((r, k) => {
        const old = tableRows.get(r.plan_id);
        const tr = old && old.key === keys[k] ? old.tr : planRow(r);
        next.set(r.plan_id, {key: keys[k], tr});
        frag.appendChild(tr);
      });
      table.textContent = "";
      table.appendChild(frag);
      tableRows = next;
      tableOrder = order;
      return;
    }
    rows.forEach((r, k) => {
      const old = tableRows.get(r.plan_id);
      if (old.key !== keys[k]) {
        const tr = planRow(r);
        table.replaceChild(tr, old.tr);
        tableRows.set(r.plan_id, {key: keys[k], tr});
      }
    });
  }

  function planOptions(select, ids, exclude) {
    // the neighbouring plans; a locked one is listed, marked and disabled (it takes nothing: unlock it first)
    select.textContent = "";
    const rows = planRows(S);
    ids = ids.filter((p) => p !== exclude);
    const placeholder = (text) => {
      const option = document.createElement("option");
      option.value = ""; option.disabled = true; option.selected = true; option.textContent = text;
      select.appendChild(option);
    };
    if (!ids.length) { placeholder("no neighbouring plan: pick a municipality on a plan border"); }
    else if (ids.every((p) => lockedPlans.has(p))) { placeholder("every neighbouring plan is locked"); }
    ids.sort((a, b) => (rows[a].name).localeCompare(rows[b].name)).forEach((p) => {
      const option = document.createElement("option");
      option.value = p;
      option.textContent = rows[p].name + " (" + fmt(rows[p].population) + ")";
      if (lockedPlans.has(p)) {
        option.disabled = true;
        option.textContent += " (locked)";
        option.title = "locked: unlock it on its card first";
      }
      select.appendChild(option);
    });
    const note = select.closest("section").querySelector(".locked-note");
    const locked = ids.filter((p) => lockedPlans.has(p)).map((p) => rows[p].name);
    note.hidden = !locked.length;
    note.textContent = locked.length ? "Locked (greyed out): " + locked.join(", ") +
      ". A locked plan takes in and gives up no municipality; unlock it on its card first." : "";
  }

  function neighbourPlans(indices) {
    const plans = new Set();
    indices.forEach((i) => neighbours[i].forEach((j) => plans.add(S.assignment[j])));
    indices.forEach((i) => { if (indices.every((k) => S.assignment[k] === S.assignment[i])) { plans.delete(S.assignment[i]); } });
    return Array.from(plans);
  }

  function growSelection(key) {
    // every municipality of the selected ones' provinces (say), or of their unions (along union ties)
    if (key === "union") {
      const k = T.kinds.indexOf("union"), next = T.codes.map(() => []);
      T.ties.forEach(([a, b, kk]) => { if (kk === k) { next[a].push(b); next[b].push(a); } });
      const todo = Array.from(selected);
      while (todo.length) { next[todo.pop()].forEach((j) => { if (!selected.has(j)) { selected.add(j); todo.push(j); } }); }
      return;
    }
    const values = new Set(Array.from(selected).map((i) => T.groups[key][i]));
    T.groups[key].forEach((v, i) => { if (values.has(v)) { selected.add(i); } });
  }

  function renderSelection() {
    const items = Array.from(selected);
    $("selection").hidden = items.length === 0;
    if (!items.length) { return; }
    const people = items.reduce((sum, i) => sum + T.population[i], 0);
    $("sel-count").textContent = items.length + " municipalit" + (items.length === 1 ? "y" : "ies") + ", " + fmt(people) + " people";
    $("sel-names").textContent = items.slice(0, 8).map((i) => T.names[i]).join(", ") + (items.length > 8 ? " and " + (items.length - 8) + " more" : "");
    const near = neighbourPlans(items);
    planOptions($("move-to"), near);
    // say so before the click: a municipality locked (itself or its plan) does not move
    const locked = items.every((i) => lockedSet.has(T.codes[i]) || lockedPlans.has(S.assignment[i]));
    const targets = near.filter((p) => !lockedPlans.has(p));
    $("move").disabled = locked || !targets.length;
    $("move").title = locked ? (items.length === 1 ? "locked" : "all locked") + " (itself or its plan): unlock first"
      : (!targets.length ? "no unlocked plan next to the selection to move into" : "");
  }

  function across(crosses) {  // the plans table's "crosses" in words, as model.plan.across says it
    const named = crosses.split(",").map((c) => c.trim()).filter(Boolean);
    const said = named.filter((c) => c !== "selection pieces").map((c) => "the " + c + " boundary");
    if (named.includes("selection pieces")) { said.push("pieces of the selection that do not touch"); }
    return "across " + said.join(" and ");
  }

  function renderCard() {
    const rows = planRows(S);
    const r = rows[cardPlan];
    $("card").hidden = !r;
    if (!r) { return; }
    $("card-title").textContent = r.name + " (" + r.plan_id + ")";
    const table = $("card-table");
    table.textContent = "";
    const total = r.collaboration_kept + r.collaboration_cut;
    const why = [r.margin < 0 ? "below its floor" : "", r.contiguous ? "" : "not contiguous",
      r.crosses ? across(r.crosses) : ""].filter(Boolean).join(", ") || "above the ceiling";
    [["Status", r.compliant ? "complies" : "NOT COMPLIANT: " + why],
     ["Municipalities", fmt(r.municipalities)], ["Population", fmt(r.population)],
     ["Class", r.class_reason], ["Population floor", fmt(r.floor)], ["Margin over floor", signed(r.margin)],
     ["Contiguous", r.contiguous ? (r.bridges ? "yes, through " + r.bridges + " bridge(s): parts that share no border" : "yes") : "no"],
     ["Collaboration kept", fmt(r.collaboration_kept, 1) + " of " + fmt(total, 1) + (total > 0 ? " (" + pct(r.collaboration_kept / total) + ")" : "")],
     ["Compactness", r.polsby_popper == null ? "-" : r.polsby_popper.toFixed(2) + " Polsby-Popper (1 a disc, 0.79 a square, near 0 long or ragged)"],
     ["Locked", lockedPlans.has(r.plan_id) ? "yes" : "no"]].forEach(([k, v]) => {
      const tr = document.createElement("tr"); cell(tr, k); cell(tr, v); table.appendChild(tr);
    });
    $("rename-text").value = r.name;
    $("lock-plan").textContent = lockedPlans.has(r.plan_id) ? "Unlock plan" : "Lock plan";
    ["rename", "merge"].forEach((id) => {  // a locked plan keeps its name and its municipalities
      $(id).disabled = lockedPlans.has(r.plan_id);
      $(id).title = lockedPlans.has(r.plan_id) ? "locked: unlock the plan first" : "";
    });
    const members = [];
    S.assignment.forEach((p, i) => { if (p === r.plan_id) { members.push(i); } });
    planOptions($("merge-with"), neighbourPlans(members), r.plan_id);
  }

  function renderChanges() {
    const s = S.scorecard.summary;
    $("changes").hidden = s.municipalities_moved === undefined;
    if (s.municipalities_moved === undefined) { return; }
    const table = $("change-table");
    table.textContent = "";
    const add = (k, v) => { const tr = document.createElement("tr"); cell(tr, k); cell(tr, v, "num"); table.appendChild(tr); };
    add("Municipalities moved", fmt(s.municipalities_moved));
    add("People moved", fmt(s.population_moved));
    add("Plans formed by merging", fmt(s.plans_merged));
    add("Status quo plans split", fmt(s.plans_split));
    S.scorecard.plans.filter((r) => r.moved_in > 0).sort((a, b) => b.moved_in - a.moved_in).slice(0, 20)
      .forEach((r) => add(r.name, r.moved_in + " moved in"));
  }

  function renderHistory() {
    const steps = S.steps;
    $("undo").disabled = !steps.undo;
    $("redo").disabled = !steps.redo;
    $("undo").title = steps.undo ? "Undo: " + steps.undo : "Nothing to undo";
    $("redo").title = steps.redo ? "Redo: " + steps.redo : "Nothing to redo";
    const list = $("steps");
    list.textContent = "";
    const first = Math.max(0, steps.labels.length - 30);
    list.start = first + 1;
    if (first) { const li = document.createElement("li"); li.className = "muted"; li.textContent = first + " earlier steps (undo goes back through all of them)"; list.appendChild(li); list.start = first; }
    steps.labels.slice(first).forEach((label, k) => {
      const li = document.createElement("li");
      li.textContent = label;
      const n = first + k;
      if (n >= steps.cursor) { li.className = "undone"; } else if (n === steps.cursor - 1) { li.className = "now"; }
      list.appendChild(li);
    });
    $("version-label").textContent = "version " + S.version;
  }

  function renderVersions() {
    const list = $("version-list");
    list.textContent = "";
    S.versions.forEach((v) => {
      const li = document.createElement("li");
      li.appendChild(document.createTextNode(v.name + " (at version " + v.version + (v.saved ? ", saved " + v.saved : "") + ") "));
      const b = document.createElement("button"); b.type = "button"; b.textContent = "Restore";
      b.addEventListener("click", () => edit({op: "restore_version", name: v.name}));
      const d = document.createElement("button"); d.type = "button"; d.textContent = "Delete";
      d.title = "forget this version (the history of edits stays)";
      d.addEventListener("click", () => {
        if (window.confirm("Delete version '" + v.name + "'? The plan it kept is forgotten; the history of edits stays.")) {
          post("api/version/delete", {name: v.name}).then(applyState).catch(ignoreHandled);
        }
      });
      li.appendChild(b); li.appendChild(document.createTextNode(" ")); li.appendChild(d); list.appendChild(li);
    });
  }

  function renderFiles() {
    const list = $("file-list");
    list.textContent = "";
    S.files.forEach((f) => {
      const li = document.createElement("li");
      const a = document.createElement("a"); a.href = "files/" + f.name.split("/").map(encodeURIComponent).join("/"); a.textContent = f.name;
      a.setAttribute("download", "");
      li.appendChild(a);
      li.appendChild(document.createTextNode(" (" + (f.bytes < 1000 ? f.bytes + " bytes" : fmt(f.bytes / 1000, 0) + " kB") + ") "));
      if (f.plan) {
        const b = document.createElement("button"); b.type = "button"; b.textContent = "Open";
        b.addEventListener("click", () => post("api/open", {name: f.name, version: S.version}).then(opened).catch(ignoreHandled));
        li.appendChild(b);
      }
      list.appendChild(li);
    });
  }

  // ----- the solver and its candidate -------------------------------------------------------------
  function jobLabel(job, elapsed) {
    // the running job's line: action, seconds, plans so far and the solver's note (e.g. while it compiles)
    const p = job.progress || {};
    const seconds = elapsed === undefined ? job.elapsed : elapsed;
    return job.action + ": " + Math.floor(seconds) + " s" + (p.plans ? ", " + p.plans + " plans" : "") +
      (p.note ? ", " + p.note : "");
  }

  let shownJob = null, jobStart = 0, jobTick = null;  // the running job, when it started (page clock), the ticking

  function tickJob() {
    // the seconds from the job's start as the server reported it, counted on the page between polls
    const elapsed = (performance.now() - jobStart) / 1000;
    $("job-label").textContent = $("job-label").title = jobLabel(shownJob, elapsed);  // whole in its tooltip
    $("job-progress").value = shownJob.time_limit ? Math.min(1, elapsed / shownJob.time_limit) : 0;
  }

  function renderJob(job) {
    const running = job && job.state === "running";
    $("job").hidden = !running;
    document.querySelectorAll("button.solve").forEach((b) => { b.disabled = running; });
    if (running) {
      const start = performance.now() - 1000 * job.elapsed;
      // a slow answer reports an older elapsed time: keep the earliest start of this job
      jobStart = shownJob && shownJob.action === job.action && jobTick ? Math.min(jobStart, start) : start;
      shownJob = job;
      tickJob();
      if (!jobTick) { jobTick = setInterval(tickJob, 250); }
      if (!jobTimer) { jobTimer = setInterval(pollJob, 400); }
    } else {
      if (jobTimer) { clearInterval(jobTimer); jobTimer = null; }
      if (jobTick) { clearInterval(jobTick); jobTick = null; }
      shownJob = null;
    }
  }

  async function pollJob() {
    let data;
    try { data = await get("api/job"); } catch (err) { return; }
    renderJob(data.job);
    if (data.job && data.job.state !== "running") {
      if (data.job.messages.length) { show(data.job.messages, data.job.state !== "cancelled"); }
      if (data.candidate && (!S.candidate || S.candidate !== data.candidate)) {
        S.candidate = data.candidate;
        S.colours = data.candidate.current_colours;  // coloured with the candidate: the same plan, the same colour
        drawMunicipalities(S);
        renderPlanTable();
        renderCandidate();
        show([data.candidate.version === data.version
          ? "The solver has an answer: compare it on the right, then accept or discard it."
          : "The solver has an answer, but for the plan before your last edits: run it again, or discard it."]);
      }
    }
  }

  function markStale() {
    // an answer computed before the planner's later edits no longer fits the plan: it cannot be accepted
    const stale = !!S.candidate && S.candidate.version !== S.version;
    $("cand-accept").disabled = stale;
    $("cand-stale").hidden = !stale;
  }

  function renderCandidate() {
    markStale();
    const c = S.candidate;
    $("candidate").hidden = !c;
    $("cand-map").hidden = !c;
    map.invalidateSize();
    if (!c) {
      if (candMap) {
        map.unsync(candMap); candMap.unsync(map); candMap.remove(); candMap = null; candPolys = [];
        map.invalidateSize();
        // back to the full width: the whole territory again, unless the planner moved the map meanwhile
        const moved = candView && map.project(map.getCenter()).distanceTo(map.project(candView.center));
        if (candView && map.getZoom() === candView.zoom && moved < 5) {  // a pixel or two: the two maps' syncing
          map.fitBounds(T.bounds, {animate: false});
        }
        candView = null;
      }
      return;
    }
    const proved = c.result && (c.result.status === "optimal" || c.result.gap === 0);
    $("cand-title").textContent = c.action + " (" + (c.result ? (proved ? "proved best" : c.result.status) + ", " +
      c.result.wall_time_s + " s" : "") + ")";
    $("cand-words").textContent = c.words.join(" ");
    const table = $("cand-compare");
    table.textContent = "";
    const head = document.createElement("tr");
    ["", "Current", "Candidate"].forEach((h) => { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
    table.appendChild(head);
    const a = summaryRows(S.scorecard.summary), b = summaryRows(c.scorecard.summary);
    a.forEach(([k, v], i) => { const tr = document.createElement("tr"); cell(tr, k); cell(tr, v, "num"); cell(tr, b[i] ? b[i][1] : "-", "num"); table.appendChild(tr); });
    const list = $("cand-changes");
    list.textContent = "";
    (c.changes.length ? c.changes : ["No change: the current plan is already the answer."]).forEach((text) => {
      const li = document.createElement("li"); li.textContent = text; list.appendChild(li);
    });
    if (!candMap) {
      candMap = L.map("cand-map", {preferCanvas: true, zoomSnap: 0.25, zoomControl: false});
      const r = L.canvas({padding: 0.3});
      for (let i = 0; i < T.codes.length; i++) {
        const poly = L.polygon(T.shapes[i], {renderer: r, weight: 0.5, color: "#FFFFFF", fillOpacity: 0.72});
        poly.bindTooltip(() => { const el = document.createElement("div"); el.textContent = T.names[i] + ": " + (S.candidate ? S.candidate.names[S.candidate.assignment[i]] : ""); return el; }, {sticky: true});
        poly.addTo(candMap);
        candPolys.push(poly);
      }
      candBorders = L.featureGroup().addTo(candMap);
      map.invalidateSize();
      map.fitBounds(T.bounds, {animate: false});
      candView = {center: map.getCenter(), zoom: map.getZoom()};
      candMap.setView(map.getCenter(), map.getZoom(), {animate: false});
      map.sync(candMap); candMap.sync(map);
    }
    const rows = planRows(c);
    candPolys.forEach((poly, i) => {
      const plan = c.assignment[i];
      const colour = c.colours[plan] || "#999";
      poly.setStyle({fillColor: rows[plan] && !rows[plan].compliant ? hatch(colour) : colour});
    });
    $("cand-accept").scrollIntoView({block: "nearest"});  // Accept and Discard in view, however far the panel scrolled
    candBorders.clearLayers();
    T.edges.forEach(([i, j, lines]) => {
      if (c.assignment[i] !== c.assignment[j]) { candBorders.addLayer(L.polyline(lines, {renderer: candPolys[0].options.renderer, interactive: false, color: BORDER, weight: 2.2})); }
    });
  }

  // ----- state ----------------------------------------------------------------------------------
  function applyState(next) {
    const candidateChanged = !S || JSON.stringify(S.candidate && S.candidate.version) !== JSON.stringify(next.candidate && next.candidate.version) || !!S.candidate !== !!next.candidate;
    S = next;
    if (cardPlan && !S.names[cardPlan]) { cardPlan = null; }
    drawMunicipalities(S);
    drawBorders(S);
    drawTies(S);
    renderSummary();
    renderPlanTable();
    renderSelection();
    renderCard();
    changed("changes", S.scorecard.summary.municipalities_moved + "/" + S.scorecard.summary.plans_merged + "/" +
            JSON.stringify(S.scorecard.plans.map((r) => r.moved_in)), renderChanges);
    changed("history", JSON.stringify(S.steps) + S.version, renderHistory);
    changed("versions", JSON.stringify(S.versions), renderVersions);
    changed("files", JSON.stringify(S.files), renderFiles);
    renderJob(S.job);
    if (candidateChanged) { renderCandidate(); } else { markStale(); }
    if (S.notice && S.notices !== shownNotices) { show([S.notice], false, S.warning); }  // once: polls and reloads do not repeat it
    shownNotices = S.notices;
  }

  let shownNotices = -1;
  const shownKeys = {};
  function changed(part, key, render) {
    // a part of the side panel is rebuilt only when what it shows has changed
    if (shownKeys[part] !== key) { shownKeys[part] = key; render(); }
  }

  const ignoreHandled = (err) => { if (!err.handled) { show([String(err)], true); } };

  function opened(state) {  // a file replaces the whole plan: the selection and card of the old one go
    selected = new Set();
    cardPlan = null;
    applyState(state);
    refreshSelection();
  }

  function wire() {
    document.querySelectorAll("input[name=tool]").forEach((r) => r.addEventListener("change", () => setTool(r.value)));
    $("undo").addEventListener("click", () => edit({op: "undo"}));
    $("redo").addEventListener("click", () => edit({op: "redo"}));
    document.addEventListener("keydown", (e) => {
      if (!(e.ctrlKey || e.metaKey) || e.target.tagName === "INPUT") { return; }
      const op = e.key.toLowerCase() === "z" ? (e.shiftKey ? "redo" : "undo") : (e.key.toLowerCase() === "y" ? "redo" : null);
      if (!op) { return; }
      e.preventDefault();
      if (!$(op).disabled || pending) { edit({op}); }  // as its button: nothing to undo, nothing said
    });
    $("move").addEventListener("click", () => {
      const target = $("move-to").value;
      if (!target) { show(["Pick the plan to move into: only plans next to the selection are listed, so select a municipality on a plan border."], true); return; }
      edit({op: "move", codes: Array.from(selected).map((i) => T.codes[i]), plan: target}, true);
    });
    $("new-plan").addEventListener("click", async () => {
      const first = Array.from(selected)[0];
      const state = await edit({op: "new_plan", codes: Array.from(selected).map((i) => T.codes[i])}, true);
      if (state) { cardPlan = state.assignment[first]; renderCard(); renderPlanTable(); }  // ready to be renamed
    });
    $("lock-sel").addEventListener("click", () => edit({op: "lock", codes: Array.from(selected).map((i) => T.codes[i])}));
    $("unlock-sel").addEventListener("click", () => edit({op: "unlock", codes: Array.from(selected).map((i) => T.codes[i])}));
    $("clear-sel").addEventListener("click", () => { selected = new Set(); refreshSelection(); });
    const groupLabels = {province: "province", labour_market_area: "labour market area", ats: "health agency (ATS)"};
    Object.keys(T.groups || {}).forEach((key) => $("grow-by").add(new Option(groupLabels[key] || key, key)));
    if (T.kinds.includes("union")) { $("grow-by").add(new Option("union of municipalities", "union")); }
    $("grow").addEventListener("click", () => { growSelection($("grow-by").value); refreshSelection(); });
    $("rename").addEventListener("click", () => edit({op: "rename", plan: cardPlan, name: $("rename-text").value}));
    $("merge").addEventListener("click", () => edit({op: "merge", plan: cardPlan, other: $("merge-with").value}));
    $("lock-plan").addEventListener("click", () => edit({op: lockedPlans.has(cardPlan) ? "unlock_plan" : "lock_plan", plan: cardPlan}));
    $("select-plan").addEventListener("click", () => { selected = new Set(); S.assignment.forEach((p, i) => { if (p === cardPlan) { selected.add(i); } }); refreshSelection(); });
    $("keep-version").addEventListener("click", () => post("api/version", {name: $("version-name").value}).then(applyState).catch(ignoreHandled));
    $("time-limit").addEventListener("input", (e) => {
      if (e.target.checkValidity()) { sessionStorage.setItem("ld-time-limit", e.target.value); }
    });
    document.querySelectorAll("button.solve").forEach((b) => b.addEventListener("click", () => {
      const field = $("time-limit");
      if (!field.checkValidity()) {  // 0, text or above 3600 used to run the default without a word
        show([`the time limit must be a whole number of seconds from ${field.min} to ${field.max}`], true);
        return;
      }
      if (solving) { return; }  // a double click: the job is being started
      if (S.candidate && !window.confirm(`Start ${b.dataset.action}? The ${S.candidate.action} candidate on screen `
          + "will be discarded (Accept it first to keep it).")) { return; }
      solving = true;
      post("api/solve", {action: b.dataset.action, version: S.version, time_limit: Number(field.value)})
        .then((state) => { applyState(state); pollJob(); }).catch(ignoreHandled).finally(() => { solving = false; });
    }));
    $("job-cancel").addEventListener("click", () => post("api/job/cancel", {}).then(applyState).catch(ignoreHandled));
    $("job-finish").addEventListener("click", () => post("api/job/finish", {}).then(applyState).catch(ignoreHandled));
    $("cand-accept").addEventListener("click", () => post("api/candidate/accept", {version: S.version}).then(applyState).catch(ignoreHandled));
    $("cand-discard").addEventListener("click", () => post("api/candidate/discard", {}).then(applyState).catch(ignoreHandled));
    $("write").addEventListener("click", () => post("api/write", {kind: $("file-kind").value, name: $("file-name").value})
      .then(applyState).catch(ignoreHandled));
    $("upload").addEventListener("change", async (e) => {
      const file = e.target.files[0];
      if (!file) { return; }
      const text = await file.arrayBuffer();
      call("POST", "api/upload?name=" + encodeURIComponent(file.name) + "&version=" + S.version, undefined, text)
        .then(opened).catch(ignoreHandled).finally(() => { e.target.value = ""; });
    });
  }

  async function start() {
    const started = performance.now();
    try {
      const [territory, state] = await Promise.all([get("api/territory"), get("api/state")]);
      window.ldStartTimes = {fetched: performance.now() - started};
      T = territory;
      buildMap();
      window.ldStartTimes.map = performance.now() - started;
      wire();
      // the studio's --time-limit, or the planner's own choice in this tab before a reload
      const kept = sessionStorage.getItem("ld-time-limit");
      if (kept || state.time_limit) { $("time-limit").value = kept || Math.round(state.time_limit); }
      if (!state.started) {  // a reload: the last notice is old news
        shownNotices = state.notices;
        show([`Reloaded: the plan as you left it (version ${state.version}).`]);
      }
      applyState(state);
      window.ldStartTimes.state = performance.now() - started;
    } catch (err) { ignoreHandled(err); return; }
    requestAnimationFrame(() => requestAnimationFrame(() => {
      window.ldReadyMs = performance.now() - started;
      window.ldReadyAt = performance.now();  // since navigation start
      document.body.dataset.ready = "1";
    }));
  }

  window.ldStudio = {
    map: () => map, territory: () => T, state: () => S, jobLabel, across,
    pointOf(code) {
      const i = T.codes.indexOf(code);
      const p = map.latLngToContainerPoint(T.points[i]);
      const box = map.getContainer().getBoundingClientRect();
      return [box.left + p.x, box.top + p.y];
    },
  };
  start();
})();
