// The Vayu dashboard: a client of the daemon's own API (the same routes the manager app and
// the CLI use). Engine health and settings, the runs list (filters, paging), a live view of
// one run from /metrics/live/:id (SSE) that turns into its stored report when the run ends,
// a start form built from GET /schema/run, stop, and every report format. With API keys on,
// the key is asked for once, kept for the browser session, sent as X-API-Key, and as
// ?apiKey= on the SSE stream (an EventSource cannot send headers). Data is only ever set as
// text, never as markup.
(function () {
  "use strict";

  const PAGE_SIZE = 20;
  const HISTORY = 600; // ticks kept in the live charts
  const REDRAW_EVERY_MS = 1000; // live figures and charts
  const $ = (id) => document.getElementById(id);
  const state = { key: sessionStorage.getItem("vayuApiKey") || "", offset: 0, selected: null, stream: null, charts: null };

  // ---- API access -------------------------------------------------------------------------

  class Unauthorized extends Error {}

  async function api(path, options) {
    const init = Object.assign({ headers: {} }, options || {});
    if (state.key) init.headers["X-API-Key"] = state.key;
    if (init.body !== undefined) init.headers["Content-Type"] = "application/json";
    const response = await fetch(path, init);
    if (response.status === 401) {
      askForKey(state.key ? "the key was refused" : "");
      throw new Unauthorized("an API key is needed");
    }
    return response;
  }

  async function json(path, options) {
    const response = await api(path, options);
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const message = body && body.error ? body.error.code + ": " + body.error.message : "HTTP " + response.status;
      throw new Error(message);
    }
    return body;
  }

  function askForKey(problem) {
    $("key-form").classList.remove("hidden");
    $("key-error").textContent = problem;
  }

  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.key = $("key-input").value.trim();
    sessionStorage.setItem("vayuApiKey", state.key);
    $("key-form").classList.add("hidden");
    start();
  });

  function report(where, error) {
    if (!(error instanceof Unauthorized)) $(where).textContent = String(error.message || error);
  }

  // ---- helpers ----------------------------------------------------------------------------

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "–" : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function fixed(value, digits) {
    return typeof value === "number" && isFinite(value) ? value.toFixed(digits) : "–";
  }

  // Live figures change every second: their boxes are built once and only the text of a
  // changed value is set, so an update costs the browser no layout of new nodes.
  function figures(pairs) {
    const box = $("run-figures");
    const labels = pairs.map(([label]) => label).join("|");
    if (box.dataset.labels !== labels) {
      box.replaceChildren();
      for (const [label] of pairs) {
        const div = document.createElement("div");
        div.className = "figure";
        const span = document.createElement("span");
        span.textContent = label;
        div.append(document.createElement("b"), span);
        box.appendChild(div);
      }
      box.dataset.labels = labels;
    }
    pairs.forEach(([, value], i) => {
      const b = box.children[i].firstChild;
      const text = value === null || value === undefined ? "" : String(value);
      if (b.textContent !== text) b.textContent = text;
    });
  }

  function countsTable(id, counts) {
    const body = $(id).querySelector("tbody");
    const entries = Object.entries(counts || {});
    const shown = JSON.stringify(entries);
    if (body.dataset.shown === shown) return;
    body.dataset.shown = shown;
    body.replaceChildren();
    if (entries.length === 0) {
      const row = body.insertRow();
      cell(row, "none", "name");
      return;
    }
    for (const [name, count] of entries) {
      const row = body.insertRow();
      cell(row, name, "name");
      cell(row, count);
    }
  }

  // ---- engine -----------------------------------------------------------------------------

  async function loadEngine() {
    const health = await json("/health");
    $("engine").textContent = "engine " + health.status + " · v" + health.version + " · " + health.workers + " workers";
    const config = await json("/config");
    $("engine-config").textContent = Object.entries(config).map(([k, v]) => k + " " + v).join(" · ");
  }

  // ---- runs list --------------------------------------------------------------------------

  async function loadRuns() {
    $("runs-error").textContent = "";
    const query = new URLSearchParams({ limit: String(PAGE_SIZE + 1), offset: String(state.offset) });
    if ($("filter-status").value) query.set("status", $("filter-status").value);
    if ($("filter-type").value) query.set("type", $("filter-type").value);
    try {
      const runs = await json("/runs?" + query);
      const more = runs.length > PAGE_SIZE;
      const page = runs.slice(0, PAGE_SIZE);
      $("page-prev").disabled = state.offset === 0;
      $("page-next").disabled = !more;
      $("page-label").textContent = page.length ? state.offset + 1 + "–" + (state.offset + page.length) : "no runs";
      const details = await Promise.all(page.map((run) => json("/run/" + encodeURIComponent(run.id)).catch(() => run)));
      const body = $("runs-table").querySelector("tbody");
      body.replaceChildren();
      for (const run of details) body.appendChild(runRow(run));
    } catch (error) {
      report("runs-error", error);
    }
  }

  function runRow(run) {
    const row = document.createElement("tr");
    row.className = "run" + (run.id === state.selected ? " selected" : "");
    row.dataset.runId = run.id;
    const summary = run.summary || {};
    const latest = run.latest || {};
    cell(row, run.id, "name");
    cell(row, run.type, "name");
    cell(row, run.status, "name status-" + run.status);
    cell(row, run.startTime ? new Date(run.startTime).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" }) : null, "name");
    cell(row, run.startTime && run.endTime ? fixed((run.endTime - run.startTime) / 1000, 2) : null);
    cell(row, summary.totalRequests !== undefined ? summary.totalRequests : latest.totalRequests);
    cell(row, fixed(latest.latencyP95Ms, 2));
    cell(row, summary.failedRequests !== undefined ? summary.failedRequests : latest.totalErrors);
    row.addEventListener("click", () => openRun(run.id));
    return row;
  }

  $("refresh").addEventListener("click", loadRuns);
  $("filter-status").addEventListener("change", () => { state.offset = 0; loadRuns(); });
  $("filter-type").addEventListener("change", () => { state.offset = 0; loadRuns(); });
  $("page-prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); loadRuns(); });
  $("page-next").addEventListener("click", () => { state.offset += PAGE_SIZE; loadRuns(); });

  // ---- one run: live view, then its report ------------------------------------------------

  function makeCharts() {
    const width = Math.max(360, $("run-panel").clientWidth - 40);
    const line = (id, title, series) => new uPlot({
      title: title,
      width: width,
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: "seconds" }, { size: 60 }],
      series: [{ label: "t (s)" }].concat(series.map((s) => ({ label: s[0], stroke: s[1], width: 2 }))),
    }, [[]].concat(series.map(() => [])), $(id));
    $("chart-rate").replaceChildren();
    $("chart-latency").replaceChildren();
    return {
      ticks: [],
      rate: line("chart-rate", "Requests per second", [["sent/s", "#8ab17d"], ["completed/s", "#264653"]]),
      latency: line("chart-latency", "Latency (ms)", [["p50", "#2a9d8f"], ["p95", "#e9c46a"], ["p99", "#e76f51"]]),
    };
  }

  function drawTicks() {
    const charts = state.charts;
    const t = charts.ticks;
    const x = t.map((tick) => tick.elapsedSeconds);
    charts.rate.setData([x, t.map((tick) => tick.sendRate), t.map((tick) => tick.currentRps)]);
    charts.latency.setData([x, t.map((tick) => tick.latencyP50Ms), t.map((tick) => tick.latencyP95Ms), t.map((tick) => tick.latencyP99Ms)]);
    $("run-panel").dataset.ticks = String(t.length);
  }

  function showTick(tick) {
    figures([
      ["sent/s", fixed(tick.sendRate, 0)],
      ["completed/s", fixed(tick.currentRps, 0)],
      ["requests", tick.totalRequests],
      ["errors", tick.totalErrors],
      ["p50 ms", fixed(tick.latencyP50Ms, 2)],
      ["p95 ms", fixed(tick.latencyP95Ms, 2)],
      ["p99 ms", fixed(tick.latencyP99Ms, 2)],
      ["active connections", tick.activeConnections],
      ["in flight", tick.backpressure],
      ["dropped", tick.droppedRequests],
      ["elapsed s", fixed(tick.elapsedSeconds, 1)],
      ["queue wait ms", fixed(tick.avgQueueWaitMs, 3)],
    ]);
    countsTable("run-errors", tick.errorTypes);
  }

  function closeStream() {
    if (state.stream) {
      state.stream.close();
      state.stream.stopTimers();
    }
    state.stream = null;
  }

  async function openRun(id) {
    closeStream();
    state.selected = id;
    // A link to this view: `/#run=ID` opens it.
    history.replaceState(null, "", "#run=" + encodeURIComponent(id));
    for (const row of document.querySelectorAll("tr.run")) row.classList.toggle("selected", row.dataset.runId === id);
    $("run-title").textContent = "Run " + id;
    $("run-error").textContent = "";
    $("run-report").replaceChildren();
    $("run-formats").classList.add("hidden");
    $("run-panel").dataset.runId = id;
    $("run-panel").dataset.ticks = "0";
    state.charts = makeCharts();
    try {
      const run = await json("/run/" + encodeURIComponent(id));
      setStatus(run.status);
      if (run.status === "running" || run.status === "pending") {
        follow(id);
      } else {
        await showReport(id);
      }
    } catch (error) {
      report("run-error", error);
    }
  }

  function setStatus(status) {
    $("run-status").textContent = status;
    $("run-status").className = "status-" + status;
    $("run-panel").dataset.status = status;
    $("run-stop").classList.toggle("hidden", !(status === "running" || status === "pending"));
  }

  function follow(id) {
    const url = "/metrics/live/" + encodeURIComponent(id) + (state.key ? "?apiKey=" + encodeURIComponent(state.key) : "");
    const stream = new EventSource(url);
    state.stream = stream;
    // Ticks arrive every 100 ms; the page redraws at a human pace so that a browser on the
    // generator's host takes as little CPU from the run as it can (DECISIONS §54).
    let latest = null;
    const redraw = setInterval(() => {
      if (latest) showTick(latest);
      drawTicks();
    }, REDRAW_EVERY_MS);
    stream.stopTimers = () => clearInterval(redraw);
    stream.addEventListener("metrics", (event) => {
      const tick = JSON.parse(event.data);
      const ticks = state.charts.ticks;
      ticks.push(tick);
      if (ticks.length > HISTORY) ticks.shift();
      if (latest === null) { showTick(tick); drawTicks(); }
      latest = tick;
    });
    stream.addEventListener("complete", async () => {
      closeStream();
      if (latest) showTick(latest);
      drawTicks();
      try {
        const run = await json("/run/" + encodeURIComponent(id));
        setStatus(run.status);
        await showReport(id);
      } catch (error) {
        report("run-error", error);
      }
      loadRuns();
    });
    stream.onerror = () => {
      // The stream ended without `complete` (daemon restarted, run evicted): show what is stored.
      if (stream.readyState === EventSource.CLOSED && state.stream === stream) {
        closeStream();
        showReport(id).catch((error) => report("run-error", error));
      }
    };
  }

  async function showReport(id) {
    const response = await api("/run/" + encodeURIComponent(id) + "/report");
    if (response.status === 404) {
      $("run-report").textContent = "No report stored for this run.";
      return;
    }
    const doc = await response.json();
    if (!response.ok) throw new Error(doc && doc.error ? doc.error.message : "HTTP " + response.status);
    const s = doc.summary || {};
    const l = doc.latency || {};
    figures([
      ["requests", s.totalRequests],
      ["failed", s.failedRequests],
      ["error rate %", fixed(s.errorRate, 2)],
      ["req/s", fixed(s.avgRps, 1)],
      ["p50 ms", fixed(l.p50, 2)],
      ["p95 ms", fixed(l.p95, 2)],
      ["p99 ms", fixed(l.p99, 2)],
      ["duration s", fixed(s.totalDurationSeconds, 2)],
      ["dropped", s.droppedRequests],
      ["peak in flight", s.peakConcurrency],
      ["queue wait ms", fixed(s.avgQueueWaitMs, 3)],
      ["thresholds", doc.thresholds && doc.thresholds.length ? (doc.passed ? "passed" : "FAILED") : "none"],
    ]);
    countsTable("run-errors", doc.errors && doc.errors.types);
    // The stored tick history (the largest page the daemon gives).
    const stored = await json("/stats/" + encodeURIComponent(id) + "?format=json&limit=10000").catch(() => null);
    if (Array.isArray(stored) && state.selected === id && state.charts) {
      state.charts.ticks = stored;
      drawTicks();
    }
    const note = document.createElement("p");
    note.textContent = "Report: " + (doc.metadata ? doc.metadata.status : "") + (doc.metadata && doc.metadata.failureReason ? " — " + doc.metadata.failureReason : "");
    $("run-report").replaceChildren(note);
    $("run-formats").classList.remove("hidden");
    $("run-panel").dataset.report = "shown";
  }

  $("run-stop").addEventListener("click", async () => {
    if (!state.selected) return;
    try {
      const answer = await json("/run/" + encodeURIComponent(state.selected) + "/stop", { method: "POST" });
      $("run-status").textContent = answer.status || "stopping";
    } catch (error) {
      report("run-error", error);
    }
  });

  for (const button of document.querySelectorAll("#run-formats button")) {
    button.addEventListener("click", async () => {
      const format = button.dataset.format;
      try {
        const response = await api("/run/" + encodeURIComponent(state.selected) + "/report?format=" + format);
        if (!response.ok) throw new Error("HTTP " + response.status);
        const blob = await response.blob();
        const link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = state.selected + "." + (format === "junit" ? "xml" : format);
        if (format === "html") link.target = "_blank";
        link.click();
        setTimeout(() => URL.revokeObjectURL(link.href), 60000);
      } catch (error) {
        report("run-error", error);
      }
    });
  }

  // ---- start form, from the run body's JSON Schema ----------------------------------------

  // The property's schema with `$ref`s followed and `null` alternatives dropped.
  function resolve(schema, root) {
    let s = schema || {};
    for (let depth = 0; depth < 8; depth++) {
      if (s.$ref) {
        s = s.$ref.replace(/^#\//, "").split("/").reduce((node, part) => (node ? node[part] : undefined), root) || {};
      } else if (s.anyOf) {
        const real = s.anyOf.filter((alt) => alt.type !== "null");
        if (real.length !== 1) return s;
        s = real[0];
      } else break;
    }
    return s;
  }

  // `enum`, `string`, `number`, `integer`, `boolean`; `mixed` for a text-or-number field
  // (a duration: "30s" or 30); null for anything else (objects and arrays go in the JSON box).
  function scalarType(s) {
    if (Array.isArray(s.enum)) return "enum";
    if (Array.isArray(s.anyOf)) {
      const kinds = s.anyOf.map((alt) => scalarType(alt));
      return kinds.length > 0 && kinds.every((kind) => kind && kind !== "enum" && kind !== "boolean") ? "mixed" : null;
    }
    const types = (Array.isArray(s.type) ? s.type : [s.type]).filter((t) => t && t !== "null");
    return types.length === 1 && ["string", "number", "integer", "boolean"].includes(types[0]) ? types[0] : null;
  }

  const PREFERRED = ["url", "method", "mode", "concurrency", "targetRps", "duration", "iterations", "rampUpDuration", "startConcurrency", "name", "tests"];

  async function buildForm() {
    const schema = await json("/schema/run");
    const form = $("start-form");
    form.replaceChildren();
    const properties = Object.entries(schema.properties || {})
      // Another spelling of a field (`"$ref": "#/properties/…"`) gets no input of its own.
      .filter(([, s]) => !(s.$ref && s.$ref.startsWith("#/properties/")))
      .map(([name, s]) => [name, resolve(s, schema), s.description || ""])
      .filter(([, s]) => scalarType(s));
    properties.sort((a, b) => {
      const ia = PREFERRED.indexOf(a[0]), ib = PREFERRED.indexOf(b[0]);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a[0].localeCompare(b[0]);
    });
    const more = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "More settings";
    more.appendChild(summary);
    for (const [name, s, description] of properties) {
      const label = document.createElement("label");
      label.title = description;
      label.append(name);
      let input;
      const type = scalarType(s);
      if (type === "enum") {
        input = document.createElement("select");
        input.appendChild(new Option("", ""));
        for (const value of s.enum) input.appendChild(new Option(value, value));
      } else if (type === "boolean") {
        input = document.createElement("select");
        for (const value of ["", "true", "false"]) input.appendChild(new Option(value, value));
      } else {
        input = document.createElement("input");
        input.type = type === "number" || type === "integer" ? "number" : "text";
        if (input.type === "number") input.step = "any";
      }
      input.name = name;
      input.dataset.type = type;
      label.appendChild(input);
      (PREFERRED.includes(name) ? form : more).appendChild(label);
    }
    form.appendChild(more);
    const extra = document.createElement("label");
    extra.append("more fields (JSON)");
    const area = document.createElement("textarea");
    area.name = "__extra";
    area.placeholder = '{"endpoints": [...], "thresholds": {...}, "headers": {...}}';
    extra.appendChild(area);
    more.appendChild(extra);
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.textContent = "Start";
    form.appendChild(submit);
  }

  // The run body from the form: typed values of the filled inputs, then the JSON fields.
  function formBody() {
    const body = {};
    for (const input of $("start-form").querySelectorAll("input, select")) {
      const value = input.value.trim();
      if (value === "") continue;
      const type = input.dataset.type;
      const numeric = value !== "" && !isNaN(Number(value));
      body[input.name] =
        type === "number" || type === "integer" || (type === "mixed" && numeric) ? Number(value) : type === "boolean" ? value === "true" : value;
    }
    const extra = $("start-form").querySelector("textarea").value.trim();
    if (extra) {
      let more;
      try {
        more = JSON.parse(extra);
      } catch (error) {
        throw new Error("more fields: not JSON (" + error.message + ")");
      }
      Object.assign(body, more);
    }
    return body;
  }

  $("start-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("start-error").textContent = "";
    try {
      const answer = await json("/run", { method: "POST", body: JSON.stringify(formBody()) });
      state.offset = 0;
      await loadRuns();
      await openRun(answer.runId);
    } catch (error) {
      report("start-error", error);
    }
  });

  // ---- start ------------------------------------------------------------------------------

  function linkedRun() {
    const linked = /^#run=(.+)$/.exec(location.hash);
    return linked ? decodeURIComponent(linked[1]) : null;
  }

  async function start() {
    try {
      await loadEngine();
      await buildForm();
      await loadRuns();
      const linked = linkedRun();
      if (linked) await openRun(linked);
      // A `#run=ID` link followed inside the open page switches to that run.
      window.addEventListener("hashchange", () => {
        const id = linkedRun();
        if (id && id !== state.selected) openRun(id);
      });
      document.body.dataset.ready = "true";
    } catch (error) {
      report("runs-error", error);
    }
  }

  // A daemon with keys says so in the page; the form also appears on any 401.
  if (document.body.dataset.auth === "key" && !state.key) {
    askForKey("");
  } else {
    start();
  }
})();
