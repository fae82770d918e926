// The oversight dashboard (督办看板): for a bureau or all, years, a business date and an audit
// clock, the counts and rates with last year beside them, the results, the league of bureaus,
// the deadlines list and the live feed. Every number opens the items behind it; every item its
// history. The URL keeps the scope: /app/?view=dashboard&years=…&as_of=…&bureau=…[&measure=…]
// (a year-end document's figure links to the drill-down of exactly that number).
import { ApiError, getJSON, saveDownload } from "../api.js";
import { $, esc } from "../dom.js";
import { openDrawer } from "../drawer.js";
import { columnsOf, listTable } from "../lists.js";
import { listen } from "../live.js";
import { may, session } from "../session.js";
import {
  bureauName, choiceLabel, eventTitle, formatDay, formatMoment, itemNumber, label, percent, rateName, t, today,
} from "../words.js";
import { openItem } from "./item.js";

const RESULTS = ["solved", "planned", "deferred", "reference"];
const PROFILES = ["default", "adopt_planned", "cppcc_5_months"];
const state = { data: null, shown: null, feed: [], charts: {}, params: null, pending: null, level: null };

export const dashboardView = {
  name: "dashboard",
  title: () => t("view_dashboard"),
  render(main, params) {
    state.params = params;
    state.data = null;
    main.innerHTML = markup();
    wire(main);
    setScope(params);
    refresh().then(() => openFromLink(params));
  },
  /** The same board in the other language, at once, from what it shows (no new request). */
  language(main) {
    if (!$("kpis")) return;
    const kept = ["f-bureau", "f-y1", "f-y2", "f-asof", "f-recorded", "f-kind", "f-profile"].map((id) => [id, $(id).value]);
    disposeCharts();
    main.innerHTML = markup();
    wire(main);
    for (const [id, value] of kept) $(id).value = value;
    draw();
    drawFeed();
  },
  refresh: () => refresh(),
};

function markup() {
  const profiles = PROFILES.map((p) => `<option value="${p}">${esc(choiceLabel("profile", p))}</option>`).join("");
  return `<section class="dashboard" id="board">
  <form class="controls card" id="controls">
    <label><span>${esc(t("bureau"))}</span><select id="f-bureau"></select></label>
    <label><span>${esc(t("years"))}</span><span class="pair"><input id="f-y1" type="number" min="1949" max="2200" required>
      –<input id="f-y2" type="number" min="1949" max="2200" required></span></label>
    <label><span>${esc(t("as_of"))}</span><input id="f-asof" type="date" required></label>
    <label><span>${esc(t("recorded_by"))}</span><input id="f-recorded" type="datetime-local" step="1"></label>
    <label><span>${esc(t("kind"))}</span><select id="f-kind"><option value="">${esc(t("all_kinds"))}</option>
      <option value="npc_suggestion">${esc(choiceLabel("kind", "npc_suggestion"))}</option>
      <option value="cppcc_proposal">${esc(choiceLabel("kind", "cppcc_proposal"))}</option></select></label>
    <label><span>${esc(t("profile"))}</span><select id="f-profile">${profiles}</select></label>
    <div class="actions">
      <button type="submit" class="primary">${esc(t("refresh"))}</button>
      <span class="downloads"><span>${esc(t("download"))}</span>
        <a href="#" data-format="docx">DOCX</a><a href="#" data-format="html">HTML</a><a href="#" data-format="md">MD</a>
        <a href="#" data-format="xlsx">${esc(t("annex_xlsx"))}</a>
        <a href="#" data-format="evidence">${esc(t("evidence_xlsx"))}</a></span>
      <span class="docfields">
        <label><span>${esc(t("doc_number"))}</span><input id="d-number" maxlength="60" placeholder="沪知局〔2020〕118号"></label>
        <label><span>${esc(t("doc_term"))}</span><input id="d-term" type="number" min="1949" max="2199"></label>
        <label><span>${esc(t("doc_date"))}</span><input id="d-date" type="date"></label></span>
    </div>
  </form>
  <p class="clocks" id="clocks"></p>
  <p class="lineage" id="lineage"></p>
  <p class="error" id="board-error" role="alert"></p>
  <section class="kpis" id="kpis"></section>
  <section class="row">
    <div class="card chart"><h3>${esc(t("results_title"))}</h3><div id="chart-results" class="plot"></div></div>
    <div class="card chart"><h3>${esc(t("rates_title"))}</h3><div id="chart-rates" class="plot tall"></div></div>
    <div class="card feed"><h3>${esc(t("feed_title"))}</h3><ol id="feed"></ol></div>
  </section>
  <section class="row one">
    <div class="card wide" id="league-card"><h3><span>${esc(t("league_title"))}</span>
      <button class="link xlsx" type="button" data-xlsx="league">${esc(t("download_xlsx"))}</button></h3>
      <div class="scroll"><table id="league" class="grid stack"></table></div></div>
  </section>
  <section class="row one">
    <div class="card wide"><h3><span>${esc(t("owed_title"))}</span>
      <span class="badge red" id="n-overdue"></span><span class="badge yellow" id="n-soon"></span>
      <button class="link xlsx" type="button" data-xlsx="owed">${esc(t("download_xlsx"))}</button></h3>
      <div class="scroll"><table id="owed" class="grid stack"></table></div></div>
  </section></section>`;
}

function wire(main) {
  const select = $("f-bureau");
  if (session.me.role === "clerk") {
    select.append(new Option(bureauName(session.me.bureau), session.me.bureau));
    select.disabled = true;
  } else {
    select.append(new Option(t("all_bureaus"), ""));
    for (const id of Object.keys(session.names)) select.append(new Option(bureauName(id), id));
  }
  $("controls").addEventListener("submit", (event) => { event.preventDefault(); keepInUrl(); refresh(); });
  for (const link of main.querySelectorAll(".downloads a")) {
    link.addEventListener("click", (event) => { event.preventDefault(); downloadDocument(link.dataset.format); });
  }
  main.onclick = (event) => {
    const list = event.target.closest("[data-xlsx]");
    if (list) { downloadList(list.dataset.xlsx); return; }
    const link = event.target.closest("[data-measure], [data-entries], tr[data-proposal], a[data-proposal]");
    if (!link) return;
    event.preventDefault();
    if (link.dataset.entries) openEntries(link.dataset.entries, link.dataset.bureau || undefined);
    else if (link.dataset.measure) openItems(link.dataset.measure, link.dataset.bureau || undefined);
    else openItem(link.dataset.proposal);
  };
}

/** The scope from the URL's query (today's parameters, kept as they were). */
function setScope(params) {
  const asOf = params.get("as_of") || today();
  const years = (params.get("years") || asOf.slice(0, 4)).split("-");
  $("f-asof").value = asOf;
  $("f-y1").value = years[0];
  $("f-y2").value = years[1] || years[0];
  if (params.get("recorded_by")) $("f-recorded").value = params.get("recorded_by");
  if (params.get("kind")) $("f-kind").value = params.get("kind");
  if (params.get("profile")) $("f-profile").value = params.get("profile");
  state.level = params.get("level");  // from a document's link: the board has no control for it
  const bureau = params.get("bureau");
  if (bureau && session.me.role !== "clerk" && session.names[bureau]) $("f-bureau").value = bureau;
}

/** The board's scope as the API takes it (`bureau` given: that bureau's; else all). */
export function scopeParams(bureau) {
  const p = { years: `${$("f-y1").value}-${$("f-y2").value}`, as_of: $("f-asof").value, profile: $("f-profile").value };
  const chosen = bureau === undefined ? $("f-bureau").value : bureau;
  if (chosen) p.bureau = chosen; else p.all = "true";
  if ($("f-kind").value) p.kind = $("f-kind").value;
  if (state.level) p.level = state.level;
  if ($("f-recorded").value) p.recorded_by = $("f-recorded").value;
  return p;
}

function keepInUrl() {
  const p = scopeParams();
  const query = new URLSearchParams({ view: "dashboard", years: p.years, as_of: p.as_of });
  if (p.bureau && session.me.role !== "clerk") query.set("bureau", p.bureau);
  for (const key of ["kind", "level", "recorded_by"]) if (p[key]) query.set(key, p[key]);
  if (p.profile !== "default") query.set("profile", p.profile);
  history.replaceState(history.state, "", `/app/?${query}`);
}

/** A document's link names a number (`measure`) or the records behind the late entries
 *  (`entries`): its drill-down opens at once. */
function openFromLink(params) {
  if (params.get("measure")) openItems(params.get("measure"), params.get("bureau") || undefined);
  else if (params.get("entries")) openEntries(params.get("entries"), params.get("bureau") || undefined);
}

async function refresh() {
  if (!$("kpis")) return;
  $("board-error").textContent = "";
  const scope = scopeParams();
  let data;
  try {
    data = await getJSON("/api/dashboard", scope);
  } catch (error) {
    if ($("board-error")) $("board-error").textContent = error instanceof ApiError ? error.describe() : String(error);
    return;
  }
  if (!$("kpis")) return;
  if (!state.data) mergeFeed(data.recent, false);
  state.data = data;
  state.shown = scope;
  draw();
  drawFeed();
}

function draw() {
  const d = state.data;
  if (!d || !$("kpis")) return;
  const recorded = $("f-recorded").value;
  // the audit clock as typed (Shanghai time, as the field takes it): its day and time of day
  $("clocks").textContent = t("clocks", formatDay(d.report.scope.as_of), recorded ? `${formatDay(recorded)} ${recorded.slice(11, 16)}` : "");
  $("lineage").textContent = lineage(d);
  drawKpis(d.report, d.previous);
  drawCharts(d.report, d.previous);
  drawLeague(d.league, d.misrouting || {});
  drawOwed(d.open);
}

/** A bureau as it was named on the board's date (the dashboard's `bureaus`), else as now. */
function boardName(id) {
  const then = ((state.data || {}).bureaus || {})[id];
  if (!then) return bureauName(id);
  return (session.lang === "en" ? then.name_en : then.name) || then.name || id;
}

/** What the board's bureaus were called then and what became of them (原…, 并入…): the scope's
 *  bureau, or every bureau with a past to tell. */
function lineage(d) {
  const bureaus = d.bureaus || {};
  const chosen = d.report.scope.bureau ? [d.report.scope.bureau] : Object.keys(bureaus);
  const told = chosen.filter((id) => bureaus[id] && bureaus[id].lineage)
    .map((id) => `${boardName(id)}（${session.lang === "en" ? bureaus[id].lineage_en : bureaus[id].lineage}）`);
  return told.length ? t("named_then", told.join(session.lang === "en" ? "; " : "；")) : "";
}

// --- numbers ----------------------------------------------------------------------------------
const rates = () => (session.vocabulary.rates || []).map((r) => r.name);
const pct = (fraction) => (fraction ? percent(fraction.numerator, fraction.denominator) : "—");

function numberLink(text, measure, bureau) {
  const b = bureau === undefined ? "" : ` data-bureau="${esc(bureau)}"`;
  return `<a class="num" href="#" data-measure="${esc(measure)}"${b}>${esc(text)}</a>`;
}

function counts(report) {
  const a = report.assignments;
  const lead = a.npc_suggestion.lead + a.cppcc_proposal.lead, co = a.npc_suggestion.co + a.cppcc_proposal.co;
  return { lead, co, duties: lead + co };
}

function drawKpis(report, previous) {
  const c = counts(report), cp = counts(previous);
  const cards = [
    ["duties", c.duties, cp.duties, t("duties_sub", report.proposals, c.lead, c.co)],
    ["replied", report.replies, previous.replies, t("lead_count", c.lead)],
  ].map(([measure, value, last, sub]) => `<div class="kpi" data-kpi="${measure}">
      <div class="label">${esc(measureName(measure))}</div><div class="value">${numberLink(value, measure)}</div>
      <div class="sub">${esc(sub)}</div><div class="sub">${esc(t("last_year_short"))} ${last}</div></div>`);
  for (const rate of rates()) {
    if (rate === "on_time_opinion") cards.push(entriesCard(report, previous));
    const value = report.rates[rate], last = previous.rates[rate];
    const trend = value === null || last === null ? "" : value > last ? "up" : value < last ? "down" : "";
    const fraction = report.fractions[rate];
    cards.push(`<div class="kpi" data-kpi="${rate}"><div class="label">${esc(rateName(rate))}</div>
      <div class="value">${numberLink(pct(fraction), rate)}</div>
      <div class="sub" data-parts="${rate}">${fraction ? `${fraction.numerator} / ${fraction.denominator}` : ""}</div>
      <div class="sub">${esc(t("last_year_short"))} <span class="${trend}">${pct(previous.fractions[rate])}</span></div></div>`);
  }
  $("kpis").innerHTML = cards.join("");
}

function entriesCard(report, previous) {
  // records entered more than N working days after they happened, beside the on-time rates
  const e = report.entries, last = previous.entries;
  return `<div class="kpi" data-kpi="late_entries"><div class="label">${esc(t("late_entries"))}</div>
    <div class="value"><a class="num" href="#" data-entries="late">${e.late}</a></div>
    <div class="sub">${esc(t("entries_sub", e))}</div>
    <div class="sub">${esc(t("last_year_short"))} ${last.late}</div></div>`;
}

// --- charts -----------------------------------------------------------------------------------
function chart(id) {
  if (!window.echarts || !$(id)) return null;
  const existing = state.charts[id];
  if (existing && existing.getDom() === $(id)) return existing;
  if (existing) existing.dispose();
  state.charts[id] = window.echarts.init($(id), null, { renderer: "canvas" });
  return state.charts[id];
}

/** An empty chart says so, rather than drawing empty slices or bars. */
function nothingToDraw() {
  return { title: { text: t("no_data"), left: "center", top: "middle", textStyle: { color: "#62707f", fontSize: 14, fontWeight: "normal" } },
    series: [], xAxis: { show: false }, yAxis: { show: false } };
}

function drawCharts(report, previous) {
  const results = chart("chart-results");
  if (results) {
    const data = RESULTS.map((r) => ({ name: choiceLabel("result", r), value: report.results[r], measure: `result.${r}` }));
    const any = data.some((d) => d.value > 0);
    $("chart-results").dataset.empty = any ? "" : "true";
    results.setOption(any ? {
      animation: false, tooltip: { trigger: "item" }, color: ["#2f9e44", "#1f5fa8", "#f08c00", "#868e96"],
      legend: { bottom: 0, left: "center", width: "94%", itemGap: 8, textStyle: { fontSize: 11 } },
      series: [{ type: "pie", radius: ["30%", "54%"], center: ["50%", "40%"], avoidLabelOverlap: true,
        label: { formatter: "{c}" }, labelLayout: { hideOverlap: true }, data: data.filter((d) => d.value > 0) }],
    } : nothingToDraw(), true);
    results.off("click");
    results.on("click", (p) => { if (p.data && p.data.measure) openItems(p.data.measure); });
  }
  const bars = chart("chart-rates");
  if (bars) {
    const names = rates();
    const value = (r) => (r === null || r === undefined ? null : Math.round(r * 1000) / 10);
    const now = names.map((r) => value(report.rates[r])), last = names.map((r) => value(previous.rates[r]));
    const any = [...now, ...last].some((v) => v !== null);
    $("chart-rates").dataset.empty = any ? "" : "true";
    // horizontal bars: the rates' names stand one under another and never overlap
    bars.setOption(any ? {
      animation: false, legend: { bottom: 0, textStyle: { fontSize: 11 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: (points) => points.map((p) => `${p.marker}${esc(p.seriesName)} `
        + pct((p.seriesIndex ? previous : report).fractions[names[p.dataIndex]])).join("<br>") },
      grid: { left: 8, right: 16, top: 6, bottom: 30, containLabel: true },
      yAxis: { type: "category", inverse: true, data: names.map(rateName), axisLabel: { fontSize: 11, interval: 0 } },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%", fontSize: 10 } },
      color: ["#a4161a", "#adb5bd"],
      series: [{ name: t("this_year"), type: "bar", data: now, barGap: "10%" },
        { name: t("last_year"), type: "bar", data: last }],
    } : nothingToDraw(), true);
    bars.off("click");
    bars.on("click", (p) => { if (p.seriesIndex === 0) openItems(names[p.dataIndex]); });
  }
}

function disposeCharts() {
  for (const c of Object.values(state.charts)) c.dispose();
  state.charts = {};
}

export function resizeCharts() {
  for (const c of Object.values(state.charts)) if (c.getDom().isConnected) c.resize();
}

// --- lists ------------------------------------------------------------------------------------
function drawLeague(league, lost) {
  // in the server's order (by on-time reply rate); the same rows as its spreadsheet
  const rows = Object.entries(league).map(([bureau, r]) => ({ bureau, ...counts(r), replied: r.replies, ...r.fractions,
    misrouted: lost[bureau] ? lost[bureau].bounced : 0, days_lost: lost[bureau] ? lost[bureau].days_lost : 0 }));
  const linked = new Set(["lead", "co", "replied", ...rates()]);
  $("league").innerHTML = listTable(columnsOf("league"), rows, {
    head: true, row: (r) => ` data-bureau="${esc(r.bureau)}"`,
    cell: (column, r, text) => (linked.has(column.key) ? numberLink(text, column.key, r.bureau) : null),
  });
}

function drawOwed(open) {
  $("n-overdue").textContent = `${t("overdue")} ${open.overdue}`;
  $("n-soon").textContent = `${t("due_soon")} ${open.due_soon}`;
  $("owed").innerHTML = listTable(columnsOf("owed"), open.items, {
    row: (i) => ` class="clickable ${i.overdue ? "overdue" : "soon"}" data-proposal="${esc(i.proposal_id)}" data-bureau="${esc(i.bureau)}"`,
  });
}

// --- drill-down -------------------------------------------------------------------------------
/** A number's or a rate's name (the vocabulary's `measures`, from the kernel's words). */
function measureName(measure) {
  const found = ((session.vocabulary || {}).measures || []).find((m) => m.name === measure);
  return found ? label(found) : measure;
}

/** The drill-down's title: what it counts and how many; for a rate, its numerator over its
 *  denominator (the items listed are its denominator's). */
function itemsTitle(measure, data) {
  return data.counted === null || data.counted === undefined ? t("items_of", measureName(measure), data.count)
    : t("rate_of", measureName(measure), data.counted, data.count);
}

export function openItems(measure, bureau) {
  const params = { ...(state.shown || scopeParams(bureau)), measure };
  if (bureau) { params.bureau = bureau; delete params.all; }
  openDrawer(measureName(measure), async (frame) => {
    let data;
    try {
      data = await getJSON("/api/items", params);
    } catch (error) {
      if (frame.current()) frame.body.innerHTML = `<p class="error">${esc(error instanceof ApiError ? error.describe() : String(error))}</p>`;
      return;
    }
    if (!frame.current()) return;
    frame.download("/api/items", params);
    const scope = bureau ? ` · ${bureauName(bureau)}` : "";
    frame.title(() => itemsTitle(measure, data) + scope);
    $("drawer-title").dataset.count = data.count;
    // the columns that fit what it counts (the server's), 计入分子 only for a rate
    frame.body.innerHTML = `<table class="grid stack" id="items">${listTable(columnsOf("items", data.columns), data.items, {
      row: (i) => ` class="clickable item" data-proposal="${esc(i.proposal_id)}"`,
      cell: (column, i, text) => (column.key === "counted" ? `<span class="tag ${i.counted ? "yes" : "no"}">${esc(text)}</span>` : null),
    })}</table>`;
    frame.body.querySelector("#items").addEventListener("click", (event) => {
      const row = event.target.closest("tr[data-proposal]");
      if (row) openItem(row.dataset.proposal, { keep: true });
    });
  });
}

/** The records' kind in words (逾期补录 ...), or all of them. */
const entriesName = (which) => (which === "all" ? t("all_entries") : choiceLabel("entry", which));

function openEntries(which, bureau) {
  const params = { ...(state.shown || scopeParams(bureau)), which };
  if (bureau) { params.bureau = bureau; delete params.all; }
  openDrawer(entriesName(which), async (frame) => {
    let data;
    try {
      data = await getJSON("/api/entries", params);
    } catch (error) {
      if (frame.current()) frame.body.innerHTML = `<p class="error">${esc(error instanceof ApiError ? error.describe() : String(error))}</p>`;
      return;
    }
    if (!frame.current()) return;
    frame.download("/api/entries", params);
    frame.title(() => t("entries_of", entriesName(which), data.count));
    $("drawer-title").dataset.count = data.count;
    frame.body.innerHTML = `<table class="grid stack" id="entries">${listTable(columnsOf("entries"), data.items, {
      row: (r) => ` class="clickable entry" data-proposal="${esc(r.proposal_id)}"`,
    })}</table>`;
    frame.body.querySelector("#entries").addEventListener("click", (event) => {
      const row = event.target.closest("tr[data-proposal]");
      if (row) openItem(row.dataset.proposal, { keep: true });
    });
  });
}

// --- the live feed ----------------------------------------------------------------------------
listen((message) => {
  if (message.type === "hello") {
    if (state.data && message.position > state.data.position) scheduleRefresh();
    return;
  }
  if (!message.events.length) return;
  mergeFeed(message.events, true);
  drawFeed();
  scheduleRefresh();
});

// The board's numbers follow the live feed: the first batch after a quiet spell refreshes them
// soon (QUICK_MS), then at most once every THROTTLE_MS while batches keep coming. A refresh is
// never dropped, only put off (trailing edge): one scheduled already starts after the batch that
// finds it and so shows it too. The feed's own lines are drawn at once, batch by batch.
const QUICK_MS = 150;
const THROTTLE_MS = 3000;
let timer = null;
let lastRefresh = -Infinity;
function scheduleRefresh() {
  if (timer !== null) return;
  const wait = Math.max(QUICK_MS, lastRefresh + THROTTLE_MS - Date.now());
  timer = setTimeout(() => {
    timer = null;
    lastRefresh = Date.now();
    if ($("kpis")) refresh();
  }, wait);
}

function mergeFeed(events, fresh) {
  for (const e of events) {
    if (state.feed.some((f) => f.position === e.position)) continue;
    state.feed.unshift({ ...e, fresh: fresh ? Date.now() : 0 });
  }
  state.feed.sort((a, b) => b.position - a.position);
  state.feed.length = Math.min(state.feed.length, 100);
}

function feedLine(e) {
  return `<time>${esc(formatMoment(e.occurred_at))}</time><strong>${esc(eventTitle(e.type))}</strong> `
    + `<a class="num" href="#" data-proposal="${esc(e.proposal_id)}">${esc(e.display ? itemNumber(e) : e.proposal_id)}</a>`
    + ` · ${esc(e.actor.user)}${e.bureau ? ` · ${esc(bureauName(e.bureau))}` : ""}`;
}

function drawFeed() {
  const feed = $("feed");
  if (!feed) return;
  const now = Date.now();
  feed.innerHTML = state.feed.map((e) => `<li class="${now - e.fresh < 3000 ? "new" : ""}" data-position="${e.position}"`
    + ` data-type="${esc(e.type)}" data-proposal="${esc(e.proposal_id)}">${feedLine(e)}</li>`).join("")
    || `<li class="muted">${esc(t("no_events"))}</li>`;
  if (state.feed.some((e) => now - e.fresh < 3000)) setTimeout(() => { for (const li of feed.querySelectorAll("li.new")) li.classList.remove("new"); }, 3000);
}

// --- downloads --------------------------------------------------------------------------------
// Every list on the board downloads as .xlsx from its own route (format=xlsx), with the scope
// and clocks shown and in the page's language; the year-end document likewise.
const LISTS = {
  owed: () => ["/api/assignments", { urgent: "true", ...owedScope(state.shown) }],
  league: () => ["/api/league", state.shown],
};

/** The deadlines list's scope: the board's bureau (if one), years, date, audit clock, kind and
 *  level (the list has no profile: what is owed does not depend on one). */
function owedScope(shown) {
  const p = {};
  for (const key of ["bureau", "years", "as_of", "recorded_by", "kind", "level"]) if (shown[key]) p[key] = shown[key];
  return p;
}

async function downloadList(which) {
  const [path, params] = LISTS[which]();
  try {
    await saveDownload(path, { ...params, format: "xlsx", lang: session.lang }, "banli.xlsx");
  } catch (error) {
    $("board-error").textContent = error instanceof ApiError ? error.describe() : String(error);
  }
}

async function downloadDocument(format) {
  const p = state.shown || scopeParams();
  const years = p.years.split("-");
  // the document (or beside it: its annex, its evidence) of what the board shows, with the
  // 发文字号, the term's first year (届) and the date typed in beside the links
  const params = { format, year: years[1] || years[0], term_start: $("d-term").value || years[0], as_of: p.as_of,
    profile: p.profile, lang: session.lang };
  if (p.bureau) params.bureau = p.bureau; else params.all = "true";
  for (const key of ["kind", "level", "recorded_by"]) if (p[key]) params[key] = p[key];
  if ($("d-number").value.trim()) params.doc_number = $("d-number").value.trim();
  if ($("d-date").value) params.doc_date = $("d-date").value;
  try {
    await saveDownload("/api/report/document", params, `banli-report.${format === "evidence" ? "xlsx" : format}`);
  } catch (error) {
    $("board-error").textContent = error instanceof ApiError ? error.describe() : String(error);
  }
}

/** Whether the signed-in user reads the dashboard (the permission table's read:report). */
export const readsDashboard = () => may("read:report");
