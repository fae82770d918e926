// Spreadsheets in (docs/sheets.md): an assignment list (交办清单) for coordinators, importers and
// admins, a bureau's reply list for its clerk (importers and admins: for the bureau chosen here),
// each offered by the permission table's rows that GET /api/me lists (`import`,
// `import:replies`) where the server takes commands. Nothing is written by an upload: the server
// answers what each row would send, or why not, and keeps it for its uploader, who commits
// exactly that; the preview and the result stay in the drawer.
import { ApiError, getJSON, request } from "../api.js";
import { $, esc } from "../dom.js";
import { openDrawer } from "../drawer.js";
import { recordForms } from "../forms.js";
import { may, session } from "../session.js";
import { bureauName, choiceLabel, commandTitle, formatDay, inLanguage, named, t } from "../words.js";

const STATUS_TAG = { new: "yes", unchanged: "", differs: "provisional", refused: "no",
  imported: "yes", already: "", pending: "provisional" };

/** The imports this person is offered: {assignments, replies} (the permission table's rows). */
export function offered() {
  const actions = session.me && session.me.commands ? session.me.actions || {} : {};
  return { assignments: Boolean(actions.import), replies: Boolean(actions["import:replies"]) };
}

export const importsView = {
  name: "imports",
  title: () => t("view_imports"),
  render(main) {
    main.innerHTML = markup();
    wire();
  },
  language(main) { main.innerHTML = markup(); wire(); },
};

function markup() {
  const may = offered();
  const ownReplies = (session.me.actions || {})["import:replies"] === "own";
  const kinds = ["npc_suggestion", "cppcc_proposal"].map((k) => `<option value="${k}">${esc(choiceLabel("kind", k))}</option>`).join("");
  const bureaus = Object.keys(session.names).map((b) => `<option value="${esc(b)}">${esc(bureauName(b))}</option>`).join("");
  return `<section class="card imports" id="imports"${may.assignments || may.replies ? "" : " hidden"}>
    <h3>${esc(t("import_title"))}</h3>
    <p class="muted">${esc(t("import_intro"))}</p>
    <div class="import-options">
      <label><span>${esc(t("kind"))}</span><select id="i-kind"><option value="">${esc(t("kind_from_sheet"))}</option>${kinds}</select></label>
      <label><span>${esc(t("year"))}</span><input id="i-year" type="number" min="1949" max="2199" placeholder="${esc(t("year_from_sheet"))}"></label>
    </div>
    <form id="import-assignments" class="import"${may.assignments ? "" : " hidden"}>
      <strong>${esc(t("import_assignments"))}</strong>
      <input type="file" id="i-assignments-file" accept=".xlsx,.xlsm,.xls,.xlsb,.ods" required>
      <label><span>${esc(t("default_assigned_on"))}</span><input id="i-assigned-on" type="date"></label>
      <button type="submit" class="primary">${esc(t("upload_preview"))}</button>
    </form>
    <form id="import-replies" class="import"${may.replies ? "" : " hidden"}>
      <strong>${esc(t("import_replies"))}</strong>
      ${ownReplies ? "" : `<label><span>${esc(t("bureau"))}</span><select id="i-bureau"><option value="">${esc(t("choose"))}</option>${bureaus}</select></label>`}
      <span class="tag" id="i-replies-bureau"></span>
      <input type="file" id="i-replies-file" accept=".xlsx,.xlsm,.xls,.xlsb,.ods" required>
      <button type="submit" class="primary">${esc(t("upload_preview"))}</button>
    </form>
    <p class="status" id="import-status" aria-live="polite"></p>
  </section>
  <section class="card" id="records-card" hidden><h3>${esc(t("new_records"))}</h3><div id="records"></div></section>`;
}

function wire() {
  // one record at a time, where this person has no desk to do it from (an importer)
  if (!may("read:routing")) $("records-card").hidden = !recordForms($("records"));
  for (const which of ["assignments", "replies"]) {
    $(`import-${which}`).addEventListener("submit", (event) => { event.preventDefault(); uploadSheet(which); });
  }
  if ($("i-bureau")) $("i-bureau").addEventListener("change", showReplyBureau);
  showReplyBureau();
}

function replyBureau() {
  // a clerk's own bureau's replies; an importer's or an admin's: the bureau chosen here
  return (session.me.actions || {})["import:replies"] === "own" ? session.me.bureau : ($("i-bureau") || {}).value;
}

function showReplyBureau() {
  if ($("import-replies").hidden) return;
  const bureau = replyBureau();
  $("i-replies-bureau").textContent = bureau ? bureauName(bureau) : t("choose_bureau");
  $("import-replies").querySelector("button").disabled = !bureau;
}

function working(button, status, text) {
  // a long file takes a while: its button waits and the status says so; the returned function ends it
  button.disabled = true;
  status.className = "status";
  status.innerHTML = `<span class="spinner"></span>${esc(text)}`;
  return (error) => {
    button.disabled = false;
    status.className = error ? "status error" : "status";
    status.textContent = error || "";
  };
}

async function uploadSheet(which) {
  const file = $(`i-${which}-file`).files[0];
  if (!file) { $("import-status").textContent = t("choose_file"); return; }
  const params = { kind: $("i-kind").value, year: $("i-year").value };
  if (which === "assignments") params.assigned_on = $("i-assigned-on").value;
  if (which === "replies") params.bureau = replyBureau();
  const done = working($(`import-${which}`).querySelector("button"), $("import-status"), t("uploading", file.name));
  let answer;
  try {
    answer = await (await request(`/api/sheets/${which}`, { method: "POST", params, body: file,
      headers: { "Content-Type": "application/octet-stream" } })).json();
  } catch (error) {
    done(error instanceof ApiError ? error.describe() : String(error));
    showReplyBureau();
    return;
  }
  done();
  showReplyBureau();
  const sheet = { answer, file: file.name, committed: null, status: "" };
  openDrawer(() => sheetTitle(sheet), (frame) => drawSheet(frame, sheet));
}

// --- the preview ------------------------------------------------------------------------------
function sheetTitle(sheet) {
  const what = t(sheet.answer.kind === "assignments" ? "import_assignments" : "import_replies");
  return t("preview_of", what, sheet.file, Boolean(sheet.committed)) + (sheet.answer.bureau ? ` · ${bureauName(sheet.answer.bureau)}` : "");
}

function drawSheet(frame, sheet) {
  if (!frame.current()) return;
  sheet.frame = frame;
  frame.title(() => sheetTitle(sheet));
  const { answer, committed } = sheet;
  const preview = answer.preview, c = preview.counts;
  const counts = `<span class="tag">${esc(t("rows_total", c.rows))}</span>`
    + ["new", "unchanged", "differs", "refused"].map((s) => `<span class="tag ${STATUS_TAG[s]}" data-count="${s}">`
      + `${esc(named("sheet_status", s))} ${c[s]}</span>`).join("") + `<span>${esc(t("will_send", c.commands))}</span>`;
  const inferred = Object.entries(preview.inferred || {});
  const said = inferred.length ? `<p class="sheet-info" id="sheet-inferred"><strong>${esc(t("inferred_title"))}</strong>：`
    + inferred.map(([field, i]) => `<span data-inferred="${esc(field)}" data-cell="${esc(i.cell)}">${esc(inLanguage(i))}</span>`).join("；") + "</p>" : "";
  const head = `<thead><tr><th>${esc(t("sheet_row"))}</th><th>${esc(t("number"))}</th><th>${esc(t("status"))}</th><th>${esc(t("sends"))}</th></tr></thead>`;
  frame.body.innerHTML = `<p class="sheet-info">${esc(t("sheet_info", preview))}</p>` + said
    + `<p class="sheet-counts" id="sheet-counts">${counts}</p>`
    + (committed ? committedResult(committed) : commitBar(sheet))
    + pager(answer.page, sheet.status)
    + `<table class="grid stack" id="sheet-rows">${head}<tbody>${preview.rows.map(sheetRow).join("")}</tbody></table>`;
  const button = $("sheet-commit");
  if (button) button.addEventListener("click", () => commitSheet(sheet));
  $("sheet-prev").addEventListener("click", () => sheetPage(sheet, answer.page.offset - answer.page.limit));
  $("sheet-next").addEventListener("click", () => sheetPage(sheet, answer.page.offset + answer.page.limit));
  $("sheet-filter").addEventListener("change", (event) => { sheet.status = event.target.value; sheetPage(sheet, 0); });
}

const redraw = (sheet) => { if (sheet.frame && sheet.frame.current()) drawSheet(sheet.frame, sheet); };
const span = ([first, last]) => (last === undefined || last === first ? `${first}` : `${first}–${last}`);

function pager(page, status) {
  // a preview comes a page at a time (GET /api/sheets/{id}?offset=&limit=&status=): its counts are the whole's
  const shown = page.total ? t("page_rows", page.offset + 1, Math.min(page.offset + page.limit, page.total), page.total) : t("page_none");
  const options = ["", "new", "unchanged", "differs", "refused"].map((s) => `<option value="${s}"${s === status ? " selected" : ""}>`
    + `${esc(s ? named("sheet_status", s) : t("all_statuses"))}</option>`).join("");
  return `<div class="pager" id="sheet-pager"><select id="sheet-filter" aria-label="${esc(t("status"))}">${options}</select>`
    + `<button type="button" id="sheet-prev"${page.offset > 0 ? "" : " disabled"}>${esc(t("prev_page"))}</button>`
    + `<span id="sheet-page">${esc(shown)}</span>`
    + `<button type="button" id="sheet-next"${page.offset + page.limit < page.total ? "" : " disabled"}>${esc(t("next_page"))}</button></div>`;
}

async function sheetPage(sheet, offset) {
  const params = { offset: Math.max(0, offset), limit: sheet.answer.page.limit, status: sheet.status };
  let page;
  try {
    page = await getJSON(`/api/sheets/${encodeURIComponent(sheet.answer.preview_id)}`, params);
  } catch (error) {
    sheet.error = error instanceof ApiError ? error.describe() : String(error);
    redraw(sheet);
    return;
  }
  sheet.answer = { ...sheet.answer, preview: page.preview, page: page.page };
  redraw(sheet);
}

function sheetRow(r) {
  const rows = span([r.rows[0] ?? r.row, r.rows[r.rows.length - 1]]);
  const list = (items) => `<ul>${items.map((i) => `<li>${i}</li>`).join("")}</ul>`;
  let what;
  if (r.status === "refused") {
    what = (r.problems.length ? r.problems : [r.reason]).map((p) => `<span class="reason">${esc(inLanguage(p))}</span>`).join("<br>");
  } else if (r.commands.length) {
    what = list(r.commands.map((c) => esc(commandText(c))));
  } else if (r.differences.length) {
    const sep = session.lang === "zh" ? "：" : ": ";
    what = esc(t("differs_note")) + list(r.differences.map((d) => esc(`${named("sheet_field", d.field)}${sep}`
      + `${fieldValue(d.field, d.old)} → ${fieldValue(d.field, d.new)}`)));
  } else {
    what = esc(t("nothing_to_send"));
  }
  return `<tr class="${r.status}" data-row="${r.row}" data-status="${r.status}"><td data-label="${esc(t("sheet_row"))}">${rows}</td>`
    + `<td data-label="${esc(t("number"))}">${esc(r.number ?? "—")}</td>`
    + `<td data-label="${esc(t("status"))}"><span class="tag ${STATUS_TAG[r.status]}">${esc(named("sheet_status", r.status))}</span></td>`
    + `<td class="t" data-label="${esc(t("sends"))}">${what}</td></tr>`;
}

function commandText(c) {
  // what a command of the preview will do, in the words of the command registry (GET /api/vocabulary)
  const [colon, comma] = session.lang === "zh" ? ["：", "，"] : [": ", ", "];
  const parts = [];
  if (c.title) parts.push(session.lang === "zh" ? `《${c.title}》` : `"${c.title}"`);
  if (c.filers && c.filers.length) parts.push(`${named("sheet_field", "filers")} ${c.filers.map((f) => f.name).join("、")}`);
  if (c.lead) parts.push(`${t("lead")} ${c.lead.map(bureauName).join("、")}`);
  if (c.co && c.co.length) parts.push(`${t("co")} ${c.co.map(bureauName).join("、")}`);
  if (c.method) parts.push(choiceLabel("contact_method", c.method));
  if (c.result) parts.push(choiceLabel("result", c.result));
  if (c.disclosure) parts.push(choiceLabel("disclosure", c.disclosure));
  if (c.at) parts.push(formatDay(c.at.slice(0, 10)));
  return `${commandTitle(c.type)}${colon}${parts.join(comma)}`;
}

function fieldValue(field, value) {
  if (Array.isArray(value)) {
    return value.map((v) => (field === "leads" || field === "cos" ? bureauName(v) : v && v.name ? v.name : v)).join("、") || "—";
  }
  if (field === "result" && value) return choiceLabel("result", value);
  if (field === "disclosure" && value) return choiceLabel("disclosure", value);
  return value === null || value === undefined || value === "" ? "—" : String(value);
}

function commitBar(sheet) {
  // waiting (disabled, a spinner) while the commit runs; its error, if it failed
  const commands = sheet.answer.preview.counts.commands;
  const status = sheet.committing ? `<span class="spinner"></span>${esc(t("committing"))}`
    : sheet.error ? `<span class="error">${esc(sheet.error)}</span>` : "";
  return `<div class="commit-bar"><button type="button" class="primary" id="sheet-commit"${commands && !sheet.committing ? "" : " disabled"}>`
    + `${esc(commands ? t("commit", commands) : t("nothing_to_commit"))}</button>`
    + `<span class="status" id="sheet-commit-status">${status}</span></div>`;
}

function committedResult(done) {
  const c = done.counts;
  const counts = ["imported", "already", "refused", "pending"].map((s) => `<span class="tag ${STATUS_TAG[s]}" data-count="${s}">`
    + `${esc(named("commit_status", s))} ${c[s]}</span>`).join("");
  const rows = done.rows.map((r) => `<tr class="${r.status === "refused" ? "refused" : "differs"}" data-row="${r.row}">`
    + `<td data-label="${esc(t("sheet_row"))}">${r.row}</td><td data-label="${esc(t("number"))}">${esc(r.number ?? "—")}</td>`
    + `<td data-label="${esc(t("status"))}">${esc(named("commit_status", r.status))}</td>`
    + `<td class="t" data-label="${esc(t("why"))}">${r.reason ? `<span class="reason">${esc(inLanguage(r.reason))}</span>` : esc(t("pending_note"))}</td></tr>`).join("");
  return `<div class="committed" id="committed"><h4>${esc(t("committed_title"))}</h4><p class="sheet-counts">${counts}</p>`
    + `<p class="sheet-info">${esc(t("commit_more", c))}</p>`
    + (rows ? `<h4>${esc(t("commit_rows"))}</h4><table class="grid stack" id="commit-rows"><thead><tr><th>${esc(t("sheet_row"))}</th>`
      + `<th>${esc(t("number"))}</th><th>${esc(t("status"))}</th><th>${esc(t("why"))}</th></tr></thead><tbody>${rows}</tbody></table>` : "") + "</div>";
}

async function commitSheet(sheet) {
  sheet.committing = true;
  sheet.error = null;
  redraw(sheet);
  try {
    sheet.committed = await (await request(`/api/sheets/${encodeURIComponent(sheet.answer.preview_id)}/commit`, { method: "POST" })).json();
  } catch (error) {
    sheet.error = error instanceof ApiError ? error.describe() : String(error);
  }
  sheet.committing = false;
  redraw(sheet);
}
