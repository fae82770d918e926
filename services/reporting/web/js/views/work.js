// 待办 (my work): everything a bureau owes now (GET /api/work), sorted by due date, each with its
// clock in working days (yellow within ten, red once overdue); opening one shows the item with
// the forms of what is owed first. A clerk sees its own bureau's; coordinators and oversight
// choose a bureau (/app/?view=work&bureau=…). The reminders are here too.
import { ApiError, getJSON } from "../api.js";
import { $, debounce, esc } from "../dom.js";
import { listen } from "../live.js";
import { session } from "../session.js";
import { bureauName, choiceLabel, commandOf, dutyRole, formatDay, itemNumber, label, named, t } from "../words.js";
import { openItem } from "./item.js";

const state = { data: null, owed: "", bureau: null };

export const workView = {
  name: "work",
  title: () => t("view_work"),
  render(main, params) {
    state.bureau = session.me.role === "clerk" ? session.me.bureau : params.get("bureau") || "";
    state.owed = params.get("owed") || "";
    main.innerHTML = `<section class="work card" id="work-view">
      <div class="view-head"><h2 id="work-title"></h2><span id="work-bureau-pick"></span></div>
      <div class="chips" id="work-chips" role="toolbar"></div>
      <p class="error" id="work-error" role="alert"></p>
      <ul class="work-list" id="work"></ul>
      <details class="reminders" id="work-reminders-box"><summary id="work-reminders-title"></summary><ul id="work-reminders"></ul></details>
    </section>`;
    pickBureau();
    main.querySelector("#work").addEventListener("click", (event) => {
      const row = event.target.closest("[data-proposal]");
      if (!row) return;
      event.preventDefault();
      const item = (state.data.items || []).find((i) => i.proposal_id === row.dataset.proposal && i.owed === row.dataset.owed);
      openItem(row.dataset.proposal, item ? { open: item.commands, initial: given(item) } : {});
    });
    main.querySelector("#work-chips").addEventListener("click", (event) => {
      const chip = event.target.closest("[data-owed]");
      if (!chip) return;
      state.owed = chip.dataset.owed;
      draw();
    });
    load();
  },
  language() { if ($("work")) { pickBureau(); draw(); } },
  refresh: () => load(),
};

function pickBureau() {
  const host = $("work-bureau-pick");
  if (session.me.role === "clerk") { host.innerHTML = ""; return; }
  const options = Object.keys(session.names).map((b) => `<option value="${esc(b)}"${b === state.bureau ? " selected" : ""}>${esc(bureauName(b))}</option>`);
  host.innerHTML = `<label class="inline"><span>${esc(t("bureau"))}</span><select id="work-bureau"><option value="">${esc(t("choose"))}</option>${options.join("")}</select></label>`;
  $("work-bureau").addEventListener("change", (event) => {
    state.bureau = event.target.value;
    const query = new URLSearchParams({ view: "work" });
    if (state.bureau) query.set("bureau", state.bureau);
    history.replaceState(history.state, "", `/app/?${query}`);
    load();
  });
}

export async function load() {
  if (!$("work")) return;
  $("work-error").textContent = "";
  if (!state.bureau) { state.data = null; draw(); return; }
  try {
    state.data = await getJSON("/api/work", session.me.role === "clerk" ? {} : { bureau: state.bureau });
  } catch (error) {
    if ($("work-error")) $("work-error").textContent = error instanceof ApiError ? error.describe() : String(error);
    return;
  }
  draw();
}

/** What the work list says of an owed thing that its forms ask for, by the fields' names: the
 *  lead whose draft a co-handler signs off (`lead`), which the co-handler's own view of the item
 *  does not show. */
function given(item) {
  const initial = {};
  for (const type of item.commands || []) {
    const command = commandOf(type);
    const fields = command ? command.fields.filter((f) => f.source === "user" && f.name !== "bureau" && item[f.name] !== undefined) : [];
    if (fields.length) initial[type] = Object.fromEntries(fields.map((f) => [f.name, item[f.name]]));
  }
  return initial;
}

/** The clock of an owed thing: working days left, or overdue by; none where nothing is due. */
export function clockText(i) {
  if (!i.due) return t("no_due");
  const left = i.working_days_left ?? i.days_left;
  if (left < 0) return t("overdue_by", -left);
  if (left === 0) return t("due_today");
  return t("working_days_left", left);
}

function draw() {
  if (!$("work")) return;
  const data = state.data;
  $("work-title").textContent = state.bureau ? t("work_of", bureauName(state.bureau)) : t("view_work");
  if (!data) {
    $("work").innerHTML = state.bureau ? `<li class="muted">${esc(t("loading"))}</li>` : `<li class="muted">${esc(t("choose_bureau_work"))}</li>`;
    $("work-chips").innerHTML = "";
    $("work-reminders-box").hidden = true;
    return;
  }
  const counts = data.counts || {};
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  $("work-chips").innerHTML = [["", total], ...Object.entries(counts).filter(([, n]) => n > 0)].map(([owed, n]) => `<button type="button" class="chip${owed === state.owed ? " on" : ""}"`
    + ` data-owed="${esc(owed)}" aria-pressed="${owed === state.owed}">${esc(owed ? owedName(owed) : t("all_work"))} <span class="n">${n}</span></button>`).join("");
  const items = data.items.filter((i) => !state.owed || i.owed === state.owed);
  $("work").innerHTML = items.map(itemHtml).join("") || `<li class="empty">${esc(t("nothing_owed"))}</li>`;
  drawReminders(data.reminders || []);
}

/** The words of what is owed (the vocabulary's choice `owed`, the server's words). */
const owedName = (owed) => choiceLabel("owed", owed);

function itemHtml(i) {
  const colour = i.colour || "";
  return `<li class="work-item ${esc(colour)}" data-proposal="${esc(i.proposal_id)}" data-owed="${esc(i.owed)}">`
    + `<a href="/app/?view=item&proposal=${encodeURIComponent(i.proposal_id)}" class="work-open">`
    + `<span class="w-top"><span class="w-owed">${esc(owedName(i.owed))}</span>`
    + `<span class="clock ${esc(colour)}">${esc(clockText(i))}</span>`
    + (i.provisional ? `<span class="tag provisional">${esc(t("provisional"))}</span>` : "")
    + (i.key_item ? `<span class="tag key">${esc(t("key_item"))}</span>` : "") + `</span>`
    + `<span class="w-title">${esc(i.title)}</span>`
    + `<span class="w-meta"><span class="w-number">${esc(itemNumber(i, true))}</span> · ${esc(dutyRole(i.role))}`
    + (i.due ? ` · ${esc(t("due_on", formatDay(i.due)))}` : "") + `</span></a></li>`;
}

function drawReminders(reminders) {
  const box = $("work-reminders-box");
  box.hidden = !reminders.length;
  $("work-reminders-title").textContent = t("reminders_of", reminders.length);
  const sorted = [...reminders].sort((a, b) => a.due.localeCompare(b.due) || a.proposal_id.localeCompare(b.proposal_id));
  $("work-reminders").innerHTML = sorted.map((r) => `<li class="${esc(r.colour || "")}" data-proposal="${esc(r.proposal_id)}">`
    + `<span class="clock ${esc(r.colour || "")}">${esc(r.days_left < 0 ? t("overdue_days", -r.days_left) : t("days_left_n", r.days_left))}</span> `
    + `${esc(owedName(r.owed))} · <a href="/app/?view=item&proposal=${encodeURIComponent(r.proposal_id)}" data-item="${esc(r.proposal_id)}">`
    + `${esc(itemNumber(r))}</a> · ${esc(bureauName(r.bureau))} · ${esc(t("due_on", formatDay(r.due)))}</li>`).join("");
}

listen(debounce((message) => { if (message.type === "events" && $("work")) load(); }, 300));
