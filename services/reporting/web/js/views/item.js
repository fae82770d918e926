// One item (建议/提案): its number with its kind and level, its duties with their due dates, the
// forms of the commands this person may send on it (from the vocabulary), its reply letters and
// its history in words. Shown in the drawer from a list, or alone at /app/?view=item&proposal=….
import { ApiError, getJSON, saveDownload } from "../api.js";
import { esc } from "../dom.js";
import { openDrawer } from "../drawer.js";
import { commandForm } from "../forms.js";
import { listen } from "../live.js";
import { may, sendable, session } from "../session.js";
import {
  bureauName, choiceLabel, dutyRole, eventOf, eventTitle, formatDay, formatInstantDay,
  formatMoment, formatSize, itemNumber, label, named, roleName, t,
} from "../words.js";

const path = (id, rest = "") => `/api/proposals/${encodeURIComponent(id)}${rest}`;

/**
 * Opens an item in the drawer. `options`: `keep` (back to what the drawer showed), `open` (the
 * commands whose forms to open first: what the work list says is owed), `initial` ({command:
 * {field: value}}: values to start a form with, such as routing suggestions), `suggest` (show
 * the routing suggestions: an item awaiting assignment).
 */
export function openItem(proposal, options = {}) {
  openDrawer(t("item_loading"), (frame) => drawItem(frame, proposal, options), { keep: options.keep });
}

/** /app/?view=item&proposal=…: the item alone. */
export const itemView = {
  name: "item",
  title: () => t("view_item"),
  render(main, params) {
    const proposal = params.get("proposal");
    main.innerHTML = `<section class="card item-page"><h2 id="item-page-title"></h2><div id="item-page-body"></div></section>`;
    const frame = { body: main.querySelector("#item-page-body"), current: () => main.isConnected && main.contains(frame.body),
      title: (text) => { main.querySelector("#item-page-title").textContent = typeof text === "function" ? text() : text; },
      download: () => {} };
    if (!proposal) { frame.body.innerHTML = `<p class="error">${esc(t("no_proposal_given"))}</p>`; return; }
    drawItem(frame, proposal, {});
  },
};

async function load(proposal, suggest) {
  const [state, history, deadlines, suggestions] = await Promise.all([
    getJSON(path(proposal)),
    getJSON(path(proposal, "/history")),
    getJSON(path(proposal, "/deadlines")).catch(() => null),
    suggest && may("read:routing") ? getJSON(path(proposal, "/suggestions"), { limit: 5 }).catch(() => null) : null,
  ]);
  return { state, history: history.events, deadlines, suggestions };
}

async function drawItem(frame, proposal, options) {
  let found;
  try {
    found = await load(proposal, options.suggest);
  } catch (error) {
    if (!frame.current()) return;
    frame.title(t("view_item"));
    frame.body.innerHTML = `<p class="error">${esc(error instanceof ApiError ? error.describe() : String(error))}</p>`;
    return;
  }
  if (!frame.current()) return;
  const item = { ...found, proposal, options, frame };
  frame.title(() => `${itemNumber(found.state, true)}`);
  frame.body.innerHTML = `<article class="item" data-proposal="${esc(proposal)}">
    <header class="item-head" id="item-head"></header>
    <section id="item-duties"></section>
    <section id="item-suggest"></section>
    <section id="item-actions"></section>
    <section id="item-letters"></section>
    <section id="item-history"></section></article>`;
  drawFacts(item);
  drawActions(item);
  followLive(item);
}

/** Everything but the forms (what a person is typing stays as it is). */
function drawFacts(item) {
  const at = (id) => item.frame.body.querySelector(`#${id}`);
  at("item-head").innerHTML = headHtml(item.state);
  at("item-duties").innerHTML = dutiesHtml(item);
  at("item-suggest").innerHTML = item.suggestions ? suggestionsHtml(item.suggestions) : "";
  at("item-letters").innerHTML = lettersHtml(item);
  at("item-history").innerHTML = historyHtml(item);
  for (const button of item.frame.body.querySelectorAll("[data-letter]")) {
    button.addEventListener("click", () => download(item, button.dataset.letter, button));
  }
  resolveItems(item.frame.body);
}

// --- the item ----------------------------------------------------------------------------------
function submittedWords(name) {
  const field = ((eventOf("ProposalSubmitted") || {}).fields || []).find((f) => f.name === name);
  return field ? label(field) : name;
}

function headHtml(s) {
  const status = s.status === "open" ? (s.ever_assigned ? "" : `<span class="tag provisional">${esc(t("awaiting_assignment"))}</span>`)
    : `<span class="tag no">${esc(named("proposal_status", s.status))}</span>`;
  const filers = (s.filers || []).map((f) => (typeof f === "object" && f ? f.name : f));
  const facts = [
    [submittedWords("filers"), filers.join("、")],
    [submittedWords("affiliation"), s.affiliation],
    [submittedWords("topics"), (s.topics || []).join("、")],
    [t("submitted_on"), formatInstantDay(s.submitted_at)],
  ].filter(([, v]) => v && v !== "—");
  return `<p class="item-number"><strong id="item-number">${esc(itemNumber(s))}</strong>`
    + ` <span class="tag">${esc(t("year_of", s.year))}</span>`
    + `${s.key_item ? ` <span class="tag key">${esc(t("key_item"))}</span>` : ""} ${status}</p>`
    + `<h3 class="item-title" id="item-title">${esc(s.title)}</h3>`
    + (s.merged_into ? `<p>${esc(t("merged_into"))} <a href="#" data-item="${esc(s.merged_into)}">${esc(s.merged_into)}</a></p>` : "")
    + `<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl>`;
}

function dutyStatus(a) {
  // what a duty has come to, in words: signed for, replied (with its result), published, rated
  if (a.status !== "active") return [named("duty_status", a.status)];
  const said = [a.acknowledged ? t("acknowledged") : t("not_acknowledged")];
  if (a.role === "co") said.push(a.first_opinion_on ? t("opinion_on", formatDay(a.first_opinion_on)) : t("no_opinion_yet"));
  if (a.role === "lead") {
    said.push(a.first_reply_on ? t("replied_on", formatDay(a.last_reply_on || a.first_reply_on)) : t("not_replied"));
    if (a.result) said.push(choiceLabel("result", a.result));
    if (a.disclosure) said.push(choiceLabel("disclosure", a.disclosure));
    if (a.feedback) said.push(choiceLabel("satisfaction", a.feedback));
    if (a.draft) said.push(t("draft_under_review"));
  }
  return said;
}

function dutiesHtml(item) {
  const assignments = Object.values(item.state.assignments || {});
  if (!assignments.length) return `<h4>${esc(t("duties"))}</h4><p class="muted">${esc(t("no_duties"))}</p>`;
  const explained = Object.fromEntries(((item.deadlines || {}).assignments || []).map((a) => [a.bureau, a]));
  const st = (v) => (v ? named("deadline_status", v) : "—");
  const rows = assignments.map((a) => {
    const d = explained[a.bureau];
    const rule = d ? `<span class="muted">${esc(session.lang === "en" ? d.rule.text_en : d.rule.text)}</span>` : "";
    const extensions = d && d.extensions.length ? `<span class="muted">${esc(t("extended_to", d.extensions.map((x) => formatDay(x.reply_due)).join("、")))}</span>` : "";
    const done = d ? d.reply || d.opinion || {} : {};
    const window = d && d.return_window ? workday(d.return_window) : "—";
    const publish = d && d.disclosure ? `${workday(d.disclosure)} ${esc(st(d.disclosure.status))}` : "—";
    return `<tr data-bureau="${esc(a.bureau)}" class="${a.status === "active" ? "" : "ended"}">`
      + `<td data-label="${esc(t("bureau"))}"><strong>${esc(bureauName(a.bureau))}</strong> <span class="tag">${esc(dutyRole(a.role))}</span></td>`
      + `<td data-label="${esc(t("assigned_on"))}">${esc(formatDay(a.assigned_on))}</td>`
      + `<td data-label="${esc(t(a.role === "co" ? "opinion_due" : "reply_due"))}"><strong>${esc(formatDay(d ? d.due : a.due))}</strong> ${rule} ${extensions}</td>`
      + `<td data-label="${esc(t("status"))}">${esc(dutyStatus(a).join(" · "))}${done.status ? ` <span class="tag">${esc(st(done.status))}</span>` : ""}</td>`
      + `<td data-label="${esc(t("return_window"))}">${window}</td>`
      + `<td data-label="${esc(t("publish_due"))}">${publish}</td></tr>`;
  }).join("");
  return `<h4>${esc(t("duties"))}</h4><table class="grid stack" id="deadlines"><thead><tr><th>${esc(t("bureau"))}</th>`
    + `<th>${esc(t("assigned_on"))}</th><th>${esc(t("due"))}</th><th>${esc(t("status"))}</th><th>${esc(t("return_window"))}</th>`
    + `<th>${esc(t("publish_due"))}</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function workday(w) {
  if (!w.due) return `— ${esc(session.lang === "en" ? (w.calendar_gap || {}).message_en : (w.calendar_gap || {}).message)}`;
  return `${esc(formatDay(w.due))}<span class="muted">（${esc(t("working_days", w.working_days))}）</span>`
    + (w.provisional ? ` <span class="tag provisional">${esc(t("provisional"))}</span>` : "");
}

function suggestionsHtml(found) {
  const score = (v) => `${Math.round(v * 100)}%`;
  const list = (rows) => rows.map((r) => `<li data-bureau="${esc(r.bureau)}">${esc(bureauName(r.bureau))}`
    + ` <span class="tag">${esc(t("score"))} ${score(r.score)}</span> <span class="tag">${esc(t("support", r.support))}</span></li>`).join("")
    || `<li class="muted">${esc(t("none"))}</li>`;
  const similar = found.similar.map((p) => `<tr class="clickable" data-item="${esc(p.proposal_id)}">`
    + `<td data-label="${esc(t("year"))}">${p.year}</td><td class="t" data-label="${esc(t("item_title"))}">${esc(p.title)}</td>`
    + `<td data-label="${esc(t("lead"))}">${esc(p.leads.map(bureauName).join("、"))}</td><td data-label="${esc(t("score"))}">${score(p.score)}</td></tr>`).join("");
  return `<h4>${esc(t("routing_title"))}</h4><p class="muted" id="routing-method">${esc(t("routing_method", found.based_on))}</p>`
    + `<div class="suggest"><div><h5>${esc(t("suggested_lead"))}</h5><ol id="suggest-lead">${list(found.lead)}</ol></div>`
    + `<div><h5>${esc(t("suggested_co"))}</h5><ol id="suggest-co">${list(found.co)}</ol></div></div>`
    + (similar ? `<details class="similar"><summary>${esc(t("similar"))}</summary><table class="grid stack" id="similar">${similar}</table></details>` : "");
}

// --- the forms ---------------------------------------------------------------------------------
/** The commands this person may send on an item, each a form from its vocabulary entry. The
 *  ones the caller says are owed come first and open; the rest fold under 其他办理事项. */
function drawActions(item) {
  const section = item.frame.body.querySelector("#item-actions");
  const commands = sendable().filter((c) => c.on_proposal);
  section.innerHTML = "";
  if (!commands.length) return;
  const owed = new Set(item.options.open || []);
  if (item.suggestions && !item.state.ever_assigned) owed.add("assign");
  const first = commands.filter((c) => owed.has(c.type));
  const rest = commands.filter((c) => !owed.has(c.type));
  section.insertAdjacentHTML("beforeend", `<h4>${esc(t("actions"))}</h4>`);
  if (item.flash) section.insertAdjacentHTML("beforeend", `<p class="flash ok" id="item-flash" role="status">${item.flash.html}</p>`);
  const list = document.createElement("div");
  list.className = "actions-list";
  section.append(list);
  first.forEach((c, n) => list.append(actionBlock(item, c, n === 0)));
  if (rest.length) {
    const more = document.createElement("details");
    more.className = "more-actions";
    more.open = (first.length === 0 && rest.length <= 3) || rest.some((c) => item.flash && item.flash.type === c.type);
    more.innerHTML = `<summary>${esc(t(first.length ? "other_actions" : "all_actions", rest.length))}</summary>`;
    for (const c of rest) more.append(actionBlock(item, c, false));
    list.append(more);
  }
}

function actionBlock(item, command, open) {
  const block = document.createElement("details");
  block.className = "action";
  block.dataset.command = command.type;
  const answered = item.flash && item.flash.type === command.type;
  block.open = open || answered;
  block.innerHTML = `<summary>${esc(label(command))}</summary>`;
  const active = Object.values(item.state.assignments || {}).filter((a) => a.status === "active").map((a) => a.bureau);
  const form = commandForm(command, {
    proposal: item.proposal, bureaus: active, initial: initialFor(item, command.type),
    onDone: (answer) => accepted(item, command, answer),
  });
  if (answered) {  // the answer stays in place, beside the form it came from
    const box = form.querySelector(".form-answer");
    box.className = "form-answer ok";
    box.innerHTML = item.flash.html;
  }
  block.append(form);
  return block;
}

/** Values a form starts with: the caller's, else the routing suggestions for the fields the
 *  caller names ({assign: ["lead", "co"]}: the first suggested lead, the first two co-handlers). */
function initialFor(item, type) {
  const given = (item.options.initial || {})[type];
  if (given) return given;
  const names = (item.options.suggested || {})[type];
  if (!names || !item.suggestions) return undefined;
  const lead = item.suggestions.lead.length ? [item.suggestions.lead[0].bureau] : [];
  const co = item.suggestions.co.slice(0, 2).map((r) => r.bureau).filter((b) => !lead.includes(b));
  return { [names[0]]: lead, [names[1]]: co };
}

async function accepted(item, command, answer) {
  // the answer stays on screen; the item is read again once its history holds the new events
  const last = Math.max(0, ...(answer.events || []).map((e) => e.seq));
  const until = Date.now() + 15_000;
  let found = null;
  while (Date.now() < until) {
    try {
      found = await load(item.proposal, item.options.suggest);
      if (!last || found.history.some((e) => e.seq >= last)) break;
    } catch (_) { /* try again */ }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (!found || !item.frame.current()) return;
  Object.assign(item, found);
  const events = (answer.events || []).map((e) => eventTitle(e.type)).join("、");
  const done = t(answer.replayed ? "already_done" : "done", label(command));
  item.flash = { type: command.type, html: esc(done)
    + (events ? ` <span class="muted">${esc(t("recorded_as", events, formatInstantDay(answer.events[0].occurred_at)))}</span>` : "") };
  item.options = { ...item.options, open: (item.options.open || []).filter((type) => type !== command.type) };
  drawFacts(item);
  drawActions(item);
}

function followLive(item) {
  // events of this item from elsewhere: the facts and the history follow, the forms stay
  const stop = listen(async (message) => {
    if (!item.frame.current()) { stop(); return; }
    if (message.type !== "events" || !message.events.some((e) => e.proposal_id === item.proposal)) return;
    try { Object.assign(item, await load(item.proposal, item.options.suggest)); } catch (_) { return; }
    if (item.frame.current()) drawFacts(item);
  });
}

// --- letters -----------------------------------------------------------------------------------
function lettersOf(history) {
  return history.filter((e) => e.data && e.data.letter && e.data.letter.sha256)
    .map((e) => ({ ...e.data.letter, bureau: e.data.bureau || e.bureau, on: e.occurred_at, type: e.type }));
}

function lettersHtml(item) {
  const letters = lettersOf(item.history);
  if (!letters.length) return "";
  return `<h4>${esc(t("letters"))}</h4><ul class="letters" id="letters">${letters.map((l) => `<li data-sha="${esc(l.sha256)}">`
    + `<button type="button" class="link" data-letter="${esc(l.sha256)}" data-name="${esc(l.name)}">${esc(l.name)}</button>`
    + ` <span class="muted">${esc(bureauName(l.bureau))} · ${esc(formatInstantDay(l.on))} · ${esc(formatSize(l.size))}</span>`
    + `<span class="letter-error error"></span></li>`).join("")}</ul>`;
}

async function download(item, sha, button) {
  const error = button.parentElement.querySelector(".letter-error");
  if (error) error.textContent = "";
  try {
    await saveDownload(path(item.proposal, `/letters/${sha}`), null, button.dataset.name || "letter");
  } catch (e) {
    if (error) error.textContent = e instanceof ApiError ? e.describe() : String(e);
  }
}

// --- the history in words ---------------------------------------------------------------------
function historyHtml(item) {
  const events = item.history;
  return `<h4>${esc(t("history"))} <span class="tag">${events.length}</span></h4>`
    + `<ol class="timeline" id="history">${events.map(eventHtml).join("")}</ol>`;
}

function actorText(actor) {
  if (!actor) return "";
  const where = actor.bureau ? ` · ${bureauName(actor.bureau)}` : "";
  return `${actor.user}（${roleName(actor.role)}${where}）`;
}

function eventHtml(e) {
  const words = eventOf(e.type);
  const fields = ((words || {}).fields || []).map((f) => [f, e.data ? e.data[f.name] : undefined])
    .filter(([, v]) => !empty(v)).map(([f, v]) => `<dt>${esc(label(f))}</dt><dd>${valueHtml(f, v, e)}</dd>`).join("");
  const entered = e.recorded_by ? ` · ${esc(t("entered_by", actorText(e.recorded_by)))}` : "";
  return `<li data-type="${esc(e.type)}" data-seq="${e.seq}"><div class="ev-head"><strong>${esc(eventTitle(e.type))}</strong>`
    + ` <time datetime="${esc(e.occurred_at)}">${esc(formatInstantDay(e.occurred_at))}</time></div>`
    + `<div class="meta">${esc(t("by"))} ${esc(actorText(e.actor))}${entered}</div>`
    + (fields ? `<dl>${fields}</dl>` : "")
    + `<details class="audit"><summary>${esc(t("record_details"))}</summary><p class="muted">`
    + `${esc(t("occurred"))} ${esc(formatMoment(e.occurred_at))} · ${esc(t("recorded"))} ${esc(formatMoment(e.recorded_at))}`
    + ` · ${esc(t("seq"))} ${e.seq}${e.command_id ? ` · ${esc(t("command_id"))} <code>${esc(e.command_id)}</code>` : ""}</p></details></li>`;
}

const empty = (v) => v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** The input kind a command recording this event gives the field (proposal, bureau ...). */
function inputOf(eventType, name) {
  for (const command of (session.vocabulary || {}).commands || []) {
    if (!command.events.includes(eventType)) continue;
    const field = command.fields.find((f) => f.name === name);
    if (field && field.input) return field.input;
  }
  return null;
}

/** A value of an event's field in words: a choice by its label, a bureau by its name, a date as
 *  people write it, a letter by its name, records of a list field by their own fields. */
function valueHtml(field, value, event) {
  if (Array.isArray(value)) return value.map((v) => valueHtml({ ...field, choice_set: field.choice_set }, v, event)).join("、");
  if (value && typeof value === "object") {
    if (value.sha256 && value.name) return `${esc(value.name)} <span class="muted">${esc(formatSize(value.size || 0))}</span>`;
    if (field.fields && field.fields.length) {
      const [head, ...rest] = field.fields;
      const parts = rest.filter((f) => !empty(value[f.name])).map((f) => `${label(f)} ${plain(f, value[f.name])}`);
      return `${esc(plain(head, value[head.name]))}${parts.length ? `（${esc(parts.join("，"))}）` : ""}`;
    }
    if (value.name) return esc(value.name);
    return esc(Object.values(value).filter((v) => typeof v !== "object").join(" "));
  }
  if (typeof value === "string" && inputOf(event.type, field.name) === "proposal") {
    return `<a href="#" data-item="${esc(value)}">${esc(value)}</a>`;
  }
  return esc(plain(field, value));
}

function plain(field, value) {
  if (field.choice_set) return choiceLabel(field.choice_set, value);
  if (typeof value === "boolean") return t(value ? "yes" : "no");
  if (typeof value === "string" && session.names[value]) return bureauName(value);
  if (typeof value === "string" && DAY.test(value)) return formatDay(value);
  if (typeof value === "string" && INSTANT.test(value)) return formatInstantDay(value);
  if (field.name === "role") return dutyRole(value);
  return String(value);
}

/** Links to other items ([data-item]) named by their number once it is known. */
async function resolveItems(root) {
  for (const link of root.querySelectorAll("a[data-item]")) {
    if (link.dataset.resolved) continue;
    link.dataset.resolved = "1";
    getJSON(path(link.dataset.item)).then((s) => { link.textContent = `${itemNumber(s, true)} ${s.title}`; }).catch(() => {});
  }
}
