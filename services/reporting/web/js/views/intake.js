// 审查立案 (the office's review, its report): received, filed, merged, not filed, returned;
// members' against collective proposals; the areas with their shares to one decimal; the
// review's timeliness; the handling figures beside them (GET /api/intake/report). Every number
// opens the items behind it (GET /api/intake/items) in the drawer; the report downloads as DOCX,
// HTML, Markdown or a workbook. /app/?view=intake&years=…&as_of=…[&kind=…][&level=…][&measure=…]
import { ApiError, getJSON, saveDownload } from "../api.js";
import { $, esc } from "../dom.js";
import { openDrawer } from "../drawer.js";
import { session } from "../session.js";
import { choiceLabel, formatDay, itemNumber, percent, t, today } from "../words.js";
import { openItem } from "./item.js";

const state = { params: null, report: null };

export const intakeView = {
  name: "intake",
  title: () => t("view_intake"),
  render(main, params) {
    const year = today().slice(0, 4);
    state.params = { years: params.get("years") || year, as_of: params.get("as_of") || today(),
      kind: params.get("kind") || "", level: params.get("level") || "" };
    state.report = null;
    draw0(main);
    load().then(() => { if (params.get("measure")) openMeasure(params.get("measure")); });
  },
  language(main) { if ($("intake-view")) { draw0(main); draw(); } },
  refresh: () => load(),
};

/** The report's query: the scope on screen (empty filters left out). */
function query() {
  const found = { years: state.params.years, as_of: state.params.as_of };
  if (state.params.kind) found.kind = state.params.kind;
  if (state.params.level) found.level = state.params.level;
  return found;
}

function draw0(main) {
  const kinds = ["", "cppcc_proposal", "npc_suggestion"].map((k) => `<option value="${k}"${k === state.params.kind ? " selected" : ""}>`
    + `${esc(k ? choiceLabel("kind", k) : t("all_kinds"))}</option>`).join("");
  main.innerHTML = `<section class="intake" id="intake-view">
    <div class="card view-head"><h2>${esc(t("view_intake"))}</h2>
      <form id="intake-scope" class="inline-form">
        <label class="inline"><span>${esc(t("years"))}</span><input id="intake-years" value="${esc(state.params.years)}" size="9" inputmode="numeric"></label>
        <label class="inline"><span>${esc(t("as_of"))}</span><input id="intake-as-of" type="date" value="${esc(state.params.as_of)}"></label>
        <label class="inline"><span>${esc(t("kind"))}</span><select id="intake-kind">${kinds}</select></label>
        <button type="submit" class="primary">${esc(t("refresh"))}</button>
      </form>
      <p class="downloads">${["docx", "html", "md", "xlsx"].map((f) => `<button type="button" class="link" data-download="${f}">${esc(t("intake_download", f.toUpperCase()))}</button>`).join(" ")}</p>
      <p class="error" id="intake-error" role="alert"></p></div>
    <div id="intake-body"></div></section>`;
  $("intake-scope").addEventListener("submit", (event) => {
    event.preventDefault();
    state.params = { ...state.params, years: $("intake-years").value.trim(), as_of: $("intake-as-of").value, kind: $("intake-kind").value };
    history.replaceState(history.state, "", `/app/?${new URLSearchParams({ view: "intake", ...query() })}`);
    load();
  });
  main.onclick = onClick;
}

function onClick(event) {
  const download = event.target.closest("[data-download]");
  if (download) { event.preventDefault(); saveReport(download.dataset.download); return; }
  const number = event.target.closest("[data-measure]");
  if (number) { event.preventDefault(); openMeasure(number.dataset.measure); }
}

async function load() {
  if (!$("intake-view")) return;
  $("intake-error").textContent = "";
  try {
    state.report = await getJSON("/api/intake/report", query());
  } catch (error) {
    state.report = null;
    $("intake-error").textContent = error instanceof ApiError ? error.describe() : String(error);
  }
  draw();
}

const partLabel = (p) => (session.lang === "zh" ? p.label : p.label_en);
const share = (value) => (value === null || value === undefined ? "—" : `${value.toFixed(1)}%`);
const count = (measure, n) => `<a href="#" class="number" data-measure="${esc(measure)}">${n}</a>`;

function table(id, title, base, parts, total) {
  const rows = parts.map((p) => `<tr data-row="${esc(p.measure)}"><td>${esc(partLabel(p))}</td>`
    + `<td class="n">${count(p.measure, p.count)}</td><td class="n share">${share(p.share)}</td></tr>`).join("");
  const sum = total ? `<tr class="total"><td>${esc(t("total"))}</td><td class="n">${count(total[0], total[1])}</td><td class="n">${total[1] ? "100.0%" : "—"}</td></tr>` : "";
  return `<section class="card" id="${id}"><h3>${esc(title)}</h3><table class="grid"><thead><tr><th></th><th>${esc(t("count"))}</th>`
    + `<th>${esc(base)}</th></tr></thead><tbody>${rows}${sum}</tbody></table></section>`;
}

function draw() {
  const host = $("intake-body");
  const r = state.report;
  if (!host || !r) { if (host) host.innerHTML = ""; return; }
  const outcomes = r.outcomes.filter((p) => p.count || ["filed", "merged", "not_filed"].includes(p.measure));
  const filers = r.filers.filter((p) => p.count || ["members", "collective"].includes(p.measure));
  const areas = r.areas.filter((p) => p.count || p.measure !== "area.none");
  const tm = r.timeliness;
  const h = r.handling;
  const fraction = (name) => h.fractions[name];
  const rate = (name) => { const f = fraction(name); return `${percent(f.numerator, f.denominator)}（${f.numerator}/${f.denominator}）`; };
  host.innerHTML = `<div class="intake-grid">
    <section class="card" id="intake-received"><h3>${esc(t("intake_received"))}</h3>
      <p class="big">${count("received", r.received)}</p>
      <p class="muted">${esc(t("intake_returned"))} ${count("returned", r.returned)}</p></section>
    ${table("intake-outcomes", t("intake_outcomes"), t("share_of_received"), outcomes, ["received", r.received])}
    ${table("intake-filers", t("intake_filers"), t("share_of_filed"), filers, null)}
    ${table("intake-areas", t("intake_areas"), t("share_of_filed"), areas, ["filed", r.counts.filed])}
    <section class="card" id="intake-timeliness"><h3>${esc(t("intake_timeliness"))}</h3>
      <p>${esc(t("intake_clock", tm.working_days))}</p>
      <p>${esc(t("intake_on_time"))} <a href="#" data-measure="review_timeliness" class="number">${percent(tm.fraction.numerator, tm.fraction.denominator)}（${tm.fraction.numerator}/${tm.fraction.denominator}）</a></p>
      <p class="muted">${esc(t("intake_late"))} ${count("review_late", tm.late)} · ${esc(t("intake_overdue"))} ${count("review_overdue", tm.overdue)}</p></section>
    ${h ? `<section class="card" id="intake-handling"><h3>${esc(t("intake_handling"))}</h3>
      <p>${esc(t("intake_assigned"))} ${h.proposals} · ${esc(t("intake_replied"))} ${h.replies}</p>
      <p>${esc(t("intake_adoption"))} ${rate("adoption")} · ${esc(t("intake_satisfaction"))} ${rate("satisfaction")}</p></section>` : ""}
  </div>`;
}

function openMeasure(measure) {
  const params = { ...query(), measure };
  openDrawer(t("intake_items", measure), async (frame) => {
    let data;
    try {
      data = await getJSON("/api/intake/items", params);
    } catch (error) {
      if (frame.current()) frame.body.innerHTML = `<p class="error">${esc(error instanceof ApiError ? error.describe() : String(error))}</p>`;
      return;
    }
    if (!frame.current()) return;
    frame.download("/api/intake/items", params);
    frame.title(() => t("intake_items_n", measureLabel(measure), data.count));
    $("drawer-title").dataset.count = data.count;
    const head = `<thead><tr><th>${esc(t("number"))}</th><th>${esc(t("item_title"))}</th><th>${esc(t("intake_review"))}</th>`
      + `<th>${esc(t("intake_filer_kind"))}</th><th>${esc(t("intake_area"))}</th><th>${esc(t("received_on"))}</th>`
      + `<th>${esc(t("review_due"))}</th><th>${esc(t("reviewed_on"))}</th></tr></thead>`;
    const body = data.items.map((i) => `<tr class="clickable item" data-proposal="${esc(i.proposal_id)}">`
      + `<td data-label="${esc(t("number"))}">${esc(itemNumber(i, true))}</td><td class="t">${esc(i.title)}</td>`
      + `<td>${esc(choiceLabel("review", i.review))}</td><td>${esc(choiceLabel("filer_kind", i.filer_kind))}</td>`
      + `<td>${esc(areaName(i.area))}</td><td>${esc(formatDay(i.received_on))}</td>`
      + `<td>${esc(formatDay(i.review_due))}</td><td>${esc(formatDay(i.reviewed_on))}</td></tr>`).join("");
    frame.body.innerHTML = `<table class="grid stack" id="intake-items">${head}<tbody>${body || `<tr><td colspan="8">${esc(t("no_items"))}</td></tr>`}</tbody></table>`;
    frame.body.querySelector("#intake-items").addEventListener("click", (event) => {
      const row = event.target.closest("tr[data-proposal]");
      if (row) openItem(row.dataset.proposal, { keep: true });
    });
  });
}

/** A measure's name: the report's own words for its line, else the page's. */
function measureLabel(measure) {
  const r = state.report;
  const part = r && [...r.outcomes, ...r.filers, ...r.areas].find((p) => p.measure === measure);
  return part ? partLabel(part) : t(`intake_m_${measure}`);
}

function areaName(code) {
  const r = state.report;
  const part = r && r.areas.find((p) => p.measure === `area.${code}`);
  return code ? (part ? partLabel(part) : code) : "—";
}

async function saveReport(format) {
  try {
    if (format === "xlsx") await saveDownload("/api/intake/report/document", { ...query(), format, lang: session.lang }, "banli-intake.xlsx");
    else await saveDownload("/api/intake/report/document", { ...query(), format, lang: session.lang }, `banli-intake.${format}`);
  } catch (error) {
    $("intake-error").textContent = error instanceof ApiError ? error.describe() : String(error);
  }
}
