// Forms from the vocabulary: one builder for every command of the registry (GET /api/vocabulary
// describes each command's fields: label, input kind, required, limits, default, labelled
// choices, who fills the value in). No command has page code of its own: a command added to the
// registry gets its form from its description. A form mints its command id once and keeps it
// until the command is decided, so a double click or a retry is one command; its answer is shown
// in place, a refusal with its reason and what to do beside the form.
import { ApiError, getJSON, newCommandId, sendCommand, uploadLetter } from "./api.js";
import { debounce, esc } from "./dom.js";
import { sendable, session } from "./session.js";
import { bureauName, businessDay, commandTitle, eventTitle, formatDay, formatSize, hintOf, inLanguage, label, t, today } from "./words.js";

let serial = 0;

// How each input kind is asked for and read back. `markup(field, id, value, context)` draws the
// control; `read(node, field)` answers {value} (undefined: left out) or {error}. A kind the page
// does not know yet is asked as a line of text.
const INPUTS = {
  text: { markup: textMarkup, read: readText },
  long_text: { markup: (f, id, v) => `<textarea id="${id}" name="${esc(f.name)}" rows="3"${lengthAttrs(f)}>${esc(v ?? "")}</textarea>`,
    read: readText },
  date: { markup: (f, id, v) => `<input type="date" id="${id}" name="${esc(f.name)}" value="${esc(v ?? "")}">`,
    read: readDate },
  datetime: { markup: datetimeMarkup, read: readDatetime },
  select: { markup: selectMarkup, read: readChoice },
  bureau: { markup: bureauMarkup, read: readChoice },
  bureaus: { markup: bureausMarkup, read: readBureaus },
  proposal: { markup: proposalMarkup, read: readText },
  boolean: { markup: (f, id, v) => `<label class="check"><input type="checkbox" id="${id}" name="${esc(f.name)}"${v ? " checked" : ""}>`
    + ` <span class="label-text">${esc(label(f))}</span></label>`,
    read: (node) => ({ value: node.querySelector("input").checked }) },
  number: { markup: (f, id, v) => `<input type="number" inputmode="numeric" id="${id}" name="${esc(f.name)}" value="${esc(v ?? "")}"`
    + `${f.minimum !== null && f.minimum !== undefined ? ` min="${f.minimum}"` : ""}${f.maximum !== null && f.maximum !== undefined ? ` max="${f.maximum}"` : ""}>`,
    read: readNumber },
  texts: { markup: (f, id, v) => `<textarea id="${id}" name="${esc(f.name)}" rows="3">${esc(textsValue(v))}</textarea>`,
    read: readTexts },
  letter: { markup: letterMarkup, read: readLetter },
  // one of the year's areas (领域), which the form's place knows (context.areas: the review
  // queue's); without them, a code typed
  area: { markup: areaMarkup, read: (node, f) => (node.querySelector("select") ? readChoice(node, f) : readText(node, f)) },
};

/** The fields a person is asked: those the user fills, less those the form's place gives. */
export function askedFields(command, context = {}) {
  const given = context.given || {};
  const omit = context.omit || [];
  return command.fields.filter((f) => f.source === "user" && f.input && !(f.name in given) && !omit.includes(f.name));
}

/**
 * A form for `command` (an entry of the vocabulary's `commands`). `context`:
 *  - proposal: the item the form is opened on (fills `item` fields; letters are uploaded to it);
 *  - bureaus: the bureaus a single `bureau` field offers (else every registered bureau);
 *  - given: values the form's place fixes ({bureau: …} beside a reply), sent, not asked;
 *  - initial: values filled in that the person may change (a suggestion, a requested date);
 *  - omit: fields this place does not ask (left out of the command: their defaults apply);
 *  - areas: the areas an `area` field offers ([{code, zh, en}]: the year's);
 *  - onDone(answer): called once a command is accepted (the answer with its events).
 */
export function commandForm(command, context = {}) {
  const form = document.createElement("form");
  form.className = "command";
  form.noValidate = true;
  form.dataset.command = command.type;
  const prefix = `c${++serial}`;
  const initial = context.initial || {};
  const fields = askedFields(command, context);
  form.innerHTML = fields.map((f) => fieldMarkup(f, `${prefix}-${f.name}`, initial[f.name] ?? f.default, context)).join("")
    + `<div class="form-actions"><button type="submit" class="primary">${esc(t("send_command", commandTitle(command.type)))}</button></div>`
    + `<div class="form-answer" role="status" aria-live="polite"></div>`;
  const state = { commandId: newCommandId(), busy: false, letters: new Map() };
  form.dataset.commandId = state.commandId;
  form.addEventListener("submit", (event) => { event.preventDefault(); submit(form, command, context, state); });
  wirePickers(form);
  wireProposalSearch(form);
  for (const input of form.querySelectorAll(".file-input")) {
    input.addEventListener("change", () => {
      const file = input.files[0];
      input.parentElement.querySelector(".file-name").textContent = file ? `${file.name}（${formatSize(file.size)}）` : t("no_file");
    });
  }
  return form;
}

function fieldMarkup(field, id, value, context) {
  const input = INPUTS[field.input] || INPUTS.text;
  const control = input.markup(field, id, value, context);
  const boolean = field.input === "boolean";
  // optional where a person may leave it empty (a date that defaults to today is not asked as such)
  const mark = field.required ? ` <span class="req" aria-hidden="true">*</span>`
    : field.input === "datetime" ? "" : ` <span class="optional">${esc(t("optional"))}</span>`;
  const title = boolean ? "" : `<label class="field-label" for="${id}"><span class="label-text">${esc(label(field))}</span>${mark}</label>`;
  return `<div class="field" data-field="${esc(field.name)}" data-input="${esc(field.input)}">${title}`
    + `${control}${helpText(field)}<p class="field-error" id="${id}-error"></p></div>`;
}

function helpText(field) {
  const notes = [];
  if (field.input === "datetime") {
    const earliest = session.vocabulary && session.vocabulary.earliest;
    notes.push(earliest ? t("date_range_help", formatDay(earliest)) : t("date_help"));
  }
  if (field.input === "texts") notes.push(t("texts_help"));
  if (field.input === "letter") notes.push(t("letter_help"));
  if (field.input === "bureaus" && field.max_items === 1) notes.push(t("one_bureau"));
  return notes.length ? `<p class="field-help">${esc(notes.join(" "))}</p>` : "";
}

// --- controls ---------------------------------------------------------------------------------
const lengthAttrs = (f) => (f.max_length ? ` maxlength="${f.max_length}"` : "");

function textMarkup(f, id, v) {
  return `<input type="text" id="${id}" name="${esc(f.name)}" value="${esc(v ?? "")}"${lengthAttrs(f)} autocomplete="off">`;
}

function datetimeMarkup(f, id, v) {
  // the business date, today unless told otherwise, no earlier than the earliest this person may
  // give; the time of day only where it matters (several records on one day)
  const earliest = session.vocabulary && session.vocabulary.earliest;
  const day = v ? businessDay(v) : today();
  return `<span class="pair"><input type="date" id="${id}" name="${esc(f.name)}" value="${esc(day)}" max="${today()}"`
    + `${earliest ? ` min="${earliest}"` : ""}><input type="time" name="${esc(f.name)}-time" aria-label="${esc(t("time_of_day"))}"></span>`;
}

function selectMarkup(f, id, v) {
  const options = f.choices.map((c) => `<option value="${esc(c.value)}"${c.value === v ? " selected" : ""}>${esc(label(c))}</option>`);
  const blank = `<option value="">${esc(t(f.required ? "choose" : "not_given"))}</option>`;
  return `<select id="${id}" name="${esc(f.name)}">${v === null || v === undefined || !f.required ? blank : ""}${options.join("")}</select>`;
}

function areaMarkup(f, id, v, context) {
  if (!context.areas || !context.areas.length) return textMarkup(f, id, v);
  const options = context.areas.map((a) => `<option value="${esc(a.code)}"${a.code === v ? " selected" : ""}>`
    + `${esc(session.lang === "zh" ? a.zh : a.en || a.zh)}</option>`);
  return `<select id="${id}" name="${esc(f.name)}"><option value="">${esc(t(f.required ? "choose" : "not_given"))}</option>${options.join("")}</select>`;
}

function bureauMarkup(f, id, v, context) {
  const ids = [...(context.bureaus && context.bureaus.length ? context.bureaus : Object.keys(session.names))];
  if (v && !ids.includes(v)) ids.push(v);  // a value given (the lead a co-handler signs off for)
  const options = ids.map((b) => `<option value="${esc(b)}"${b === v ? " selected" : ""}>${esc(bureauName(b))}</option>`);
  const blank = `<option value="">${esc(t(f.required ? "choose" : (f.name === "bureau" && context.proposal ? "whole_item" : "not_given")))}</option>`;
  return `<select id="${id}" name="${esc(f.name)}">${f.required && ids.length === 1 ? "" : blank}${options.join("")}</select>`;
}

function bureausMarkup(f, id, v) {
  // every registered bureau as a checkbox, the chosen ones first, with a filter above: a list of
  // sixty bureaus is still quick to pick from on a phone
  const chosen = Array.isArray(v) ? v : [];
  const ids = Object.keys(session.names).sort((a, b) => (chosen.includes(b) - chosen.includes(a))
    || bureauName(a).localeCompare(bureauName(b), "zh-CN"));
  const boxes = ids.map((b) => `<label class="pick" data-name="${esc(`${bureauName(b)} ${b}`.toLowerCase())}">`
    + `<input type="checkbox" name="${esc(f.name)}" value="${esc(b)}"${chosen.includes(b) ? " checked" : ""}> ${esc(bureauName(b))}</label>`);
  return `<div class="picker" id="${id}" role="group"><input type="search" class="picker-filter" aria-label="${esc(t("filter_bureaus"))}"`
    + ` placeholder="${esc(t("filter_bureaus"))}"><div class="picker-list">${boxes.join("")}</div></div>`;
}

function letterMarkup(f, id) {
  // the browser's own file button speaks the browser's language: this one speaks the page's
  return `<span class="file"><input type="file" class="file-input" id="${id}" name="${esc(f.name)}"`
    + ` accept=".pdf,.docx,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg">`
    + `<label class="file-button" for="${id}">${esc(t("choose_file_button"))}</label>`
    + `<span class="file-name">${esc(t("no_file"))}</span></span>`;
}

function proposalMarkup(f, id, v) {
  return `<input type="text" id="${id}" name="${esc(f.name)}" value="${esc(v ?? "")}" list="${id}-list" autocomplete="off"`
    + ` placeholder="${esc(t("proposal_placeholder"))}" data-search="proposal"><datalist id="${id}-list"></datalist>`;
}

const textsValue = (v) => (Array.isArray(v) ? v.map((x) => (typeof x === "object" && x ? Object.values(x)[0] : x)).join("\n") : "");

function wirePickers(form) {
  for (const filter of form.querySelectorAll(".picker-filter")) {
    filter.addEventListener("input", () => {
      const wanted = filter.value.trim().toLowerCase();
      for (const pick of filter.parentElement.querySelectorAll(".pick")) {
        pick.hidden = Boolean(wanted) && !pick.dataset.name.includes(wanted) && !pick.querySelector("input").checked;
      }
    });
  }
}

function wireProposalSearch(form) {
  // a proposal is named by its number or title words: the search (GET /api/search) offers the
  // items this person may read, and the form sends the chosen one's id
  for (const input of form.querySelectorAll("[data-search=proposal]")) {
    const list = form.querySelector(`#${CSS.escape(input.getAttribute("list"))}`);
    input.addEventListener("input", debounce(async () => {
      const q = input.value.trim();
      if (q.length < 1) return;
      let found;
      try { found = await getJSON("/api/search", { q, limit: 8 }); } catch (_) { return; }
      list.innerHTML = found.items.map((i) => `<option value="${esc(i.proposal_id)}">`
        + `${esc(session.lang === "en" ? i.display_en || i.display : i.display)} ${esc(i.title)}</option>`).join("");
    }, 250));
  }
}

// --- reading values back ----------------------------------------------------------------------
const lengthOf = (s) => [...s].length;  // code points, as the server counts

function checkText(text, f) {
  if (f.min_length && lengthOf(text) < f.min_length) return t("too_short", f.min_length);
  if (f.max_length && lengthOf(text) > f.max_length) return t("too_long", f.max_length);
  if (f.pattern) {
    let pattern = null;
    try { pattern = new RegExp(f.pattern, "u"); } catch (_) { pattern = null; }
    if (pattern && !pattern.test(text)) return t("bad_format");
  }
  return null;
}

function readText(node, f) {
  const text = node.querySelector("input, textarea").value.trim();
  if (!text) return f.required ? { error: t("required") } : { value: undefined };
  const error = checkText(text, f);
  return error ? { error } : { value: text };
}

function readDate(node, f) {
  const day = node.querySelector("input").value;
  if (!day) return f.required ? { error: t("required") } : { value: undefined };
  return { value: day };
}

function readDatetime(node, f) {
  const [dayInput, timeInput] = node.querySelectorAll("input");
  const day = dayInput.value, time = timeInput.value;
  if (!day) return f.required ? { error: t("required") } : { value: undefined };
  const earliest = session.vocabulary && session.vocabulary.earliest;
  if (day > today()) return { error: t("not_after_today") };
  if (earliest && day < earliest) return { error: t("not_before", formatDay(earliest)) };
  if (day === today() && !time) return { value: undefined };  // now: the server dates it as decided
  // A past day without a time: its end, so that it follows what its duty recorded earlier that day.
  return { value: `${day}T${time || "23:59:59"}${time && time.length === 5 ? ":00" : ""}+08:00` };
}

function readChoice(node, f) {
  const value = node.querySelector("select").value;
  if (!value) return f.required ? { error: t("required") } : { value: undefined };
  return { value };
}

function readBureaus(node, f) {
  const chosen = [...node.querySelectorAll("input[type=checkbox]:checked")].map((i) => i.value);
  if (!chosen.length) return f.required || f.min_items ? { error: t("choose_one") } : { value: undefined };
  if (f.max_items && chosen.length > f.max_items) return { error: t("too_many", f.max_items) };
  return { value: chosen };
}

function readNumber(node, f) {
  const raw = node.querySelector("input").value.trim();
  if (!raw) return f.required ? { error: t("required") } : { value: undefined };
  const value = Number(raw);
  if (!Number.isFinite(value)) return { error: t("bad_format") };
  if (f.minimum !== null && f.minimum !== undefined && value < f.minimum) return { error: t("at_least", f.minimum) };
  if (f.maximum !== null && f.maximum !== undefined && value > f.maximum) return { error: t("at_most", f.maximum) };
  return { value };
}

function readTexts(node, f) {
  const lines = node.querySelector("textarea").value.split("\n").map((l) => l.trim()).filter(Boolean);
  if (!lines.length) return f.required || f.min_items ? { error: t("required") } : { value: undefined };
  if (f.max_items && lines.length > f.max_items) return { error: t("too_many_lines", f.max_items) };
  for (const line of lines) {
    const error = checkText(line, f);
    if (error) return { error: `${line}：${error}` };
  }
  return { value: f.item_field ? lines.map((line) => ({ [f.item_field]: line })) : lines };
}

function readLetter(node, f) {
  const file = node.querySelector("input").files[0];
  if (!file) return f.required ? { error: t("required") } : { value: undefined };
  if (file.size === 0) return { error: t("empty_file", file.name) };
  return { value: file, file: true };
}

// --- sending ----------------------------------------------------------------------------------
function showFieldError(form, name, text) {
  const node = form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
  if (!node) return false;
  node.classList.add("invalid");
  node.querySelector(".field-error").textContent = text;
  return true;
}

function clearErrors(form) {
  for (const node of form.querySelectorAll(".field.invalid")) {
    node.classList.remove("invalid");
    node.querySelector(".field-error").textContent = "";
  }
}

function answer(form, kind, html) {
  const box = form.querySelector(".form-answer");
  box.className = `form-answer ${kind}`;
  box.innerHTML = html;
  if (kind === "refused" || kind === "error") box.setAttribute("role", "alert");
  else box.setAttribute("role", "status");
}

/** Reads the form into a command body, or the errors beside its fields. */
function read(form, command, context) {
  const body = { type: command.type };
  for (const f of command.fields) {
    if (f.source === "item" && context.proposal) body[f.name] = context.proposal;
    else if (f.source === "own_bureau") body[f.name] = f.default;
  }
  Object.assign(body, context.given || {});
  const errors = [];
  let letter = null;
  for (const f of askedFields(command, context)) {
    const node = form.querySelector(`.field[data-field="${CSS.escape(f.name)}"]`);
    const got = (INPUTS[f.input] || INPUTS.text).read(node, f);
    if (got.error) errors.push([f.name, got.error]);
    else if (got.file) letter = [f.name, got.value];
    else if (got.value !== undefined) body[f.name] = got.value;
  }
  return { body, errors, letter };
}

async function submit(form, command, context, state) {
  if (state.busy) return;  // a second click while the first is on its way: one command
  clearErrors(form);
  const { body, errors, letter } = read(form, command, context);
  if (errors.length) {
    for (const [name, text] of errors) showFieldError(form, name, text);
    answer(form, "error", esc(t("fix_fields")));
    const first = form.querySelector(".field.invalid input, .field.invalid select, .field.invalid textarea");
    if (first) first.focus();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  state.busy = true;
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  answer(form, "working", `<span class="spinner"></span>${esc(t(letter ? "uploading_letter" : "sending"))}`);
  try {
    if (letter) body[letter[0]] = await letterFor(form, state, letter, context, body);
    const decided = await sendCommand({ ...body, command_id: state.commandId });
    if (decided.accepted) {
      renew(form, state);
      // what the form's place shows next (the item read again) comes before the answer: no one
      // types into a form that is about to be drawn afresh
      if (context.onDone) await context.onDone(decided, form);
      answer(form, "ok", acceptedText(command, decided));
      form.dataset.done = "accepted";
    } else {
      answer(form, "refused", refusalHtml(decided));
      renew(form, state);  // decided and recorded: a corrected form is another command
      form.dataset.done = "refused";
    }
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    failed(form, error, letter);
  } finally {
    state.busy = false;
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

function renew(form, state) {
  state.commandId = newCommandId();
  form.dataset.commandId = state.commandId;
}

async function letterFor(form, state, [name, file], context, body) {
  // uploaded once per chosen file: sent again, the form names the same letter
  if (state.letters.has(file)) return state.letters.get(file);
  try {
    const letter = await uploadLetter(context.proposal || body.proposal, body.bureau, file);
    state.letters.set(file, letter);
    return letter;
  } catch (error) {
    if (error instanceof ApiError) error.field = name;
    throw error;
  }
}

function failed(form, error, letter) {
  // nothing was decided: the same command (the same id) may be sent again
  const text = error.describe();
  if (error.field && showFieldError(form, error.field, text)) {
    answer(form, "error", esc(t("letter_refused")));
    return;
  }
  const located = (error.detail.errors || []).filter((e) => Array.isArray(e.loc)
    && showFieldError(form, String(e.loc[e.loc.length - 1]), t("bad_value", e.msg)));
  const again = error.status === 0 || error.status >= 500 || error.code === "pending";
  answer(form, "error", `<strong>${esc(text)}</strong>`
    + (error.hint() ? `<p class="hint">${esc(error.hint())}</p>` : "")
    + (again ? `<p class="hint">${esc(t("send_again_safe"))}</p>` : "")
    + (located.length ? `<p class="hint">${esc(t("see_fields"))}</p>` : ""));
  if (letter && error.code === "unknown_letter") form.querySelector(".form-answer").dataset.code = error.code;
}

/** A refusal in words: the kernel's message and, where it says one, what to do. */
export function refusalHtml(said) {
  const hint = hintOf(said);
  return `<strong class="reason" data-code="${esc(said.code)}">${esc(inLanguage(said))}</strong>`
    + (hint ? `<p class="hint">${esc(hint)}</p>` : "");
}

function acceptedText(command, decided) {
  const events = (decided.events || []).map((e) => eventTitle(e.type));
  const when = decided.events && decided.events[0] ? formatDay(businessDay(decided.events[0].occurred_at)) : "";
  return `<strong>${esc(t(decided.replayed ? "already_done" : "done", commandTitle(command.type)))}</strong>`
    + (events.length ? ` <span class="muted">${esc(t("recorded_as", events.join("、"), when))}</span>` : "");
}

/** The forms of the commands sent on no item (登记建议提案, 登记承办单位 ...) this person may
 *  send, each folded under its name, into `host`; answers how many there are. */
export function recordForms(host, onDone) {
  const commands = sendable().filter((c) => !c.on_proposal);
  host.innerHTML = "";
  for (const command of commands) {
    const holder = document.createElement("details");
    holder.className = "action";
    holder.dataset.command = command.type;
    holder.innerHTML = `<summary>${esc(label(command))}</summary>`;
    holder.append(commandForm(command, { onDone }));
    host.append(holder);
  }
  return commands.length;
}
