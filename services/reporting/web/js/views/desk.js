// 交办台 (the coordinator's desk): the review queue (待审查: what the office received and has to
// review — 立案 in an area, 并案, 不立案 passed on as an opinion, 退回修改 — and what is back with
// its filers), what awaits assignment (with routing suggestions filling the
// assignment form), returned items to route again, extension requests to approve or deny, the
// key items (重点督办), and the forms of the commands not sent on an item (登记: a proposal, a
// bureau). Oversight may read it. /app/?view=desk[&years=…]
import { ApiError, getJSON, saveDownload } from "../api.js";
import { $, debounce, esc, redrawKeeping } from "../dom.js";
import { commandForm, recordForms } from "../forms.js";
import { columnsOf, listTable } from "../lists.js";
import { listen } from "../live.js";
import { may, session } from "../session.js";
import { bureauName, choiceLabel, commandOf, formatDay, itemNumber, label, t, today } from "../words.js";
import { openItem } from "./item.js";

const state = { years: null, awaiting: null, desk: null, deskError: null, queue: null, queueError: null };
// The review's decisions on a proposal awaiting it, each the registry's form (立案, 并案, 不立案,
// 退回修改).
const REVIEW_COMMANDS = ["file_proposal", "merge", "decline_filing", "request_revision"];

export const deskView = {
  name: "desk",
  title: () => t("view_desk"),
  render(main, params) {
    state.years = params.get("years") || today().slice(0, 4);
    state.awaiting = null;
    state.desk = null;
    state.queue = null;
    draw0(main);
    load();
  },
  language(main) { if ($("desk-view")) { draw0(main); if (state.awaiting) draw(); } },
  refresh: () => load(),
};

function draw0(main) {
  main.innerHTML = `<section class="desk" id="desk-view">
    <div class="card view-head"><h2>${esc(t("view_desk"))}</h2>
      <label class="inline"><span>${esc(t("years"))}</span><input id="desk-years" value="${esc(state.years)}" inputmode="numeric" size="9"></label>
      <p class="error" id="desk-error" role="alert"></p></div>
    <section class="card" id="review-card" hidden><h3><span>${esc(t("review_queue_title"))}</span><span class="badge yellow" id="n-review"></span></h3>
      <div id="review-queue"></div>
      <h4>${esc(t("awaiting_revision_title"))} <span class="badge" id="n-revision"></span></h4><div id="revision-queue"></div></section>
    <div class="desk-grid">
      <section class="card" id="awaiting-card"><h3><span>${esc(t("awaiting_title"))}</span><span class="badge yellow" id="n-awaiting"></span>
        <button class="link xlsx" type="button" data-xlsx="awaiting">${esc(t("download_xlsx"))}</button></h3>
        <div class="scroll"><table id="awaiting" class="grid stack"></table></div></section>
      <section class="card" id="returned-card"><h3><span>${esc(t("returned_title"))}</span><span class="badge red" id="n-returned"></span></h3>
        <div id="returned"></div></section>
      <section class="card" id="extensions-card"><h3><span>${esc(t("extensions_title"))}</span><span class="badge yellow" id="n-extensions"></span></h3>
        <div id="extensions"></div></section>
      <section class="card" id="key-card"><h3><span>${esc(t("key_items_title"))}</span><span class="badge" id="n-key"></span></h3>
        <div id="key-items"></div></section>
    </div>
    <section class="card" id="records-card" hidden><h3>${esc(t("new_records"))}</h3><div id="records"></div></section>
  </section>`;
  $("desk-years").addEventListener("change", (event) => {
    if (!/^\d{4}(-\d{4})?$/.test(event.target.value)) return;
    state.years = event.target.value;
    history.replaceState(history.state, "", `/app/?view=desk&years=${encodeURIComponent(state.years)}`);
    load();
  });
  main.onclick = onClick;
  drawRecords();
}

// Routing suggestions fill the assignment forms' bureaus (the coordinator may change them).
const SUGGESTED = { assign: ["lead", "co"], reassign: ["add_lead", "add_co"] };

function onClick(event) {
  const xlsx = event.target.closest("[data-xlsx]");
  if (xlsx) { download(); return; }
  const row = event.target.closest("[data-assign], [data-open]");
  if (!row || event.target.closest("form")) return;
  event.preventDefault();
  if (row.dataset.assign) {
    const item = ((state.awaiting || {}).items || []).find((i) => i.proposal_id === row.dataset.assign) || {};
    openItem(row.dataset.assign, { suggest: true, open: [item.assigned_before ? "reassign" : "assign"], suggested: SUGGESTED });
  } else {
    openItem(row.dataset.open, { suggest: row.dataset.suggest === "1", open: row.dataset.commands ? row.dataset.commands.split(" ") : [],
      suggested: SUGGESTED });
  }
}

async function load() {
  if (!$("desk-view")) return;
  $("desk-error").textContent = "";
  const [awaiting, desk, queue] = await Promise.allSettled([
    getJSON("/api/proposals/awaiting-assignment", { years: state.years }),
    getJSON("/api/desk"),  // every year's (it takes no scope): returned, extensions, key items
    may("read:intake") ? getJSON("/api/intake/queue") : Promise.resolve(null),
  ]);
  if (!$("desk-view")) return;
  state.queue = queue.status === "fulfilled" ? queue.value : null;
  state.queueError = queue.status === "rejected" ? queue.reason : null;
  state.awaiting = awaiting.status === "fulfilled" ? awaiting.value : { items: [], error: awaiting.reason };
  state.desk = desk.status === "fulfilled" ? desk.value : null;
  state.deskError = desk.status === "rejected" ? desk.reason : null;
  draw();
}

const failure = (error) => (error instanceof ApiError ? error.describe() : String(error));

function draw() {
  drawReview();
  drawAwaiting();
  const desk = state.desk;
  const missing = state.deskError ? `<p class="error">${esc(failure(state.deskError))}</p>` : "";
  drawList("returned", desk ? desk.returned : null, missing, returnedRow);
  drawExtensions(desk ? desk.extension_requests : null, missing);
  drawList("key-items", desk ? desk.key_items : null, missing, keyRow);
  $("n-returned").textContent = desk ? desk.returned.length : "";
  $("n-extensions").textContent = desk ? desk.extension_requests.length : "";
  $("n-key").textContent = desk ? desk.key_items.length : "";
}

/** The review queue: each proposal awaiting review with its due date (red once overdue) and the
 *  review's four decisions as forms; then those returned to their filers. */
function drawReview() {
  const card = $("review-card");
  card.hidden = !may("read:intake");
  if (card.hidden) return;
  const host = $("review-queue");
  if (state.queueError) { host.innerHTML = `<p class="error">${esc(failure(state.queueError))}</p>`; return; }
  const queue = state.queue;
  if (!queue) return;
  $("n-review").textContent = queue.pending.length;
  $("n-revision").textContent = queue.returned.length;
  redrawKeeping(host, queue.pending, (item) => reviewBlock(item, queue), `<p class="muted">${esc(t("no_items"))}</p>`);
  $("revision-queue").innerHTML = queue.returned.length ? `<ul class="desk-list">${queue.returned.map((i) => `<li class="clickable" data-open="${esc(i.proposal_id)}" data-proposal="${esc(i.proposal_id)}">`
    + `<strong>${esc(itemNumber(i, true))}</strong> ${esc(i.title)} <span class="muted">${esc(t("returned_on_day", formatDay(i.reviewed_on)))}</span></li>`).join("")}</ul>`
    : `<p class="muted">${esc(t("no_items"))}</p>`;
}

function reviewBlock(item, queue) {
  const block = document.createElement("article");
  block.className = "review-item";
  block.dataset.proposal = item.proposal_id;
  const overdue = item.review_due && item.review_due < queue.today;
  const kind = item.filer_kind && item.filer_kind !== "person" ? ` <span class="tag">${esc(choiceLabel("filer_kind", item.filer_kind))}</span>` : "";
  block.innerHTML = `<p><a href="#" data-open="${esc(item.proposal_id)}"><strong>${esc(itemNumber(item, true))}</strong></a> ${esc(item.title)}${kind}</p>`
    + `<p class="muted">${esc(t("received_on_day", formatDay(item.received_on)))} · <span class="${overdue ? "tag red" : ""}">${esc(t("review_due_on", formatDay(item.review_due)))}</span>`
    + `${item.returns ? ` · ${esc(t("resubmitted_n", item.returns))}` : ""}</p>`;
  const areas = (queue.areas[String(item.year)] || []);
  for (const type of REVIEW_COMMANDS) {
    const command = commandOf(type);
    if (!command || !command.may_send || !session.me.commands) continue;
    const holder = document.createElement("details");
    holder.className = "action";
    holder.dataset.command = type;
    holder.innerHTML = `<summary>${esc(label(command))}</summary>`;
    holder.append(commandForm(command, { proposal: item.proposal_id, areas, initial: { area: item.area || undefined },
      onDone: () => load() }));
    block.append(holder);
  }
  return block;
}

function drawAwaiting() {
  const found = state.awaiting;
  $("n-awaiting").textContent = found.items.length;
  // the same columns as its spreadsheet; one returned before is marked
  $("awaiting").innerHTML = listTable(columnsOf("awaiting"), found.error ? [] : found.items, {
    ...(found.error ? { empty: failure(found.error), emptyClass: "error" } : {}),
    row: (i) => ` class="clickable" data-assign="${esc(i.proposal_id)}"`,
    cell: (column, i, text) => (column.key === "assigned_before" ? `<span class="tag${i.assigned_before ? " no" : ""}">${esc(text)}</span>` : null),
  });
}

function drawList(id, items, missing, row) {
  if (!items) { $(id).innerHTML = missing; return; }
  $(id).innerHTML = items.length ? `<ul class="desk-list">${items.map(row).join("")}</ul>` : `<p class="muted">${esc(t("no_items"))}</p>`;
}

function returnedRow(i) {
  const who = (i.returned_by || i.bureaus || []).map ? (i.returned_by || i.bureaus || []).map(bureauName).join("、") : bureauName(i.bureau);
  return `<li class="clickable" data-open="${esc(i.proposal_id)}" data-suggest="1" data-commands="reassign">`
    + `<strong>${esc(itemNumber(i, true))}</strong> ${esc(i.title)}`
    + `<span class="muted">${esc(who ? t("returned_by", who) : "")}${i.reason ? ` · ${esc(i.reason)}` : ""}</span></li>`;
}

function keyRow(i) {
  return `<li class="clickable" data-open="${esc(i.proposal_id)}"><strong>${esc(itemNumber(i, true))}</strong> ${esc(i.title)}</li>`;
}

function drawExtensions(requests, missing) {
  const host = $("extensions");
  if (!requests) { host.innerHTML = missing; return; }
  host.innerHTML = requests.length ? "" : `<p class="muted">${esc(t("no_items"))}</p>`;
  for (const r of requests) {
    const block = document.createElement("article");
    block.className = "extension";
    block.dataset.proposal = r.proposal_id;
    block.dataset.bureau = r.bureau;
    block.innerHTML = `<p><a href="#" data-open="${esc(r.proposal_id)}"><strong>${esc(itemNumber(r, true))}</strong></a> ${esc(r.title)}</p>`
      + `<p class="muted">${esc(t("extension_asked", bureauName(r.bureau), formatDay(r.current_due), formatDay(r.requested_due), formatDay(r.requested_on)))}</p>`
      + (r.reason ? `<p class="reason-text">${esc(r.reason)}</p>` : "");
    // approve (extend_deadline) or deny: each the registry's form, the request's values given
    for (const type of ["extend_deadline", "deny_extension"]) {
      const command = commandOf(type);
      if (!command || !command.may_send || !session.me.commands) continue;
      const holder = document.createElement("details");
      holder.className = "action";
      holder.dataset.command = type;
      holder.innerHTML = `<summary>${esc(label(command))}</summary>`;
      holder.append(commandForm(command, { proposal: r.proposal_id, given: { bureau: r.bureau },
        initial: { reply_due: r.requested_due }, onDone: () => load() }));
      block.append(holder);
    }
    host.append(block);
  }
}

function drawRecords() {
  // the commands sent on no item (登记建议提案, 登记承办单位): forms from the vocabulary
  $("records-card").hidden = !recordForms($("records"), debounce(load, 500));
}

async function download() {
  try {
    await saveDownload("/api/proposals/awaiting-assignment", { years: state.years, format: "xlsx", lang: session.lang }, "banli.xlsx");
  } catch (error) {
    $("desk-error").textContent = failure(error);
  }
}

listen(debounce((message) => { if (message.type === "events" && $("desk-view")) load(); }, 300));
