// The words people read: the page's own in one catalogue per language (i18n/zh.js, i18n/en.js);
// those of commands, fields, choices, events and rates from the vocabulary the server derives
// from the command registry (never repeated here); bureaus by their names; dates as people
// write them (2020年11月20日, 20 Nov 2020).
import zh from "./i18n/zh.js";
import en from "./i18n/en.js";
import { session } from "./session.js";

const CATALOGUES = { zh, en };
const english = () => session.lang === "en";

/** A word of the page's catalogue in the page's language; a function entry is called with
 *  `args`. A key missing from a catalogue shows itself (the unit test holds both complete). */
export function t(key, ...args) {
  const found = CATALOGUES[session.lang][key];
  if (found === undefined) return key;
  return typeof found === "function" ? found(...args) : found;
}

/** One of a catalogue's tables (owed kinds, statuses ...): the word for `key`, else the key. */
export function named(table, key) {
  const found = (CATALOGUES[session.lang][table] || {})[key];
  return found === undefined ? String(key ?? "") : found;
}

/** A described thing's words (a field, a choice, a command, an event: label/label_en or
 *  title/title_en) in the page's language. */
export const label = (x) => (english() ? x.label_en ?? x.title_en : x.label ?? x.title) || "";

/** What a server's message says, in the page's language ({message, message_en}). */
export const inLanguage = (said) => (said ? (english() ? said.message_en : said.message) || said.message || "" : "");

/** What a refusal says to do ({hint, hint_en}), if anything. */
export const hintOf = (said) => (said ? (english() ? said.hint_en : said.hint) || said.hint || "" : "");

// --- the vocabulary's words -------------------------------------------------------------------
const index = new WeakMap();
function byName(list, key) {
  let found = index.get(list);
  if (!found) { found = new Map(list.map((x) => [x[key], x])); index.set(list, found); }
  return found;
}

export function commandOf(type) {
  return session.vocabulary ? byName(session.vocabulary.commands, "type").get(type) : undefined;
}

export function commandTitle(type) {
  const found = commandOf(type);
  return found ? label(found) : type;
}

export function eventOf(type) {
  return session.vocabulary ? byName(session.vocabulary.events, "type").get(type) : undefined;
}

export function eventTitle(type) {
  const found = eventOf(type);
  return found ? label(found) : type;
}

/** The words of a choice type's value (`result`, `solved` → A 已解决或采纳). */
export function choiceLabel(set, value) {
  if (value === null || value === undefined || value === "") return "—";
  const sets = session.vocabulary ? byName(session.vocabulary.choices, "name") : new Map();
  const choice = ((sets.get(set) || {}).choices || []).find((c) => c.value === value);
  return choice ? label(choice) : String(value);
}

export const roleName = (role) => choiceLabel("actor_role", role);
export const dutyRole = (role) => choiceLabel("role", role);

/** A rate's name from the rate table (GET /api/vocabulary's `rates`). */
export function rateName(name) {
  const rate = ((session.vocabulary || {}).rates || []).find((r) => r.name === name);
  if (!rate) return t(name);
  return english() ? rate.en.charAt(0).toUpperCase() + rate.en.slice(1) : rate.zh;
}

export function bureauName(id) {
  const found = session.names[id];
  if (!found) return id || "";
  return (english() ? found.name_en : found.name) || found.name || id;
}

/** An item's number with its kind and level (市政协提案 0007): the server's `display` where the
 *  answer carries it, else made as the kernel makes it (banli.domain.wording.item_number) from
 *  the item's kind, level and number; `withYear` where a list spans years. */
export function itemNumber(item, withYear = false) {
  if (!item) return "";
  const given = english() ? item.display_en : item.display;
  if (given) return given;
  if (!item.number) return item.proposal_id || item.id || "";
  const level = named("level_short", item.level || "municipal");
  const kind = choiceLabel("kind", item.kind);
  const number = /^\d+$/.test(item.number) ? item.number.padStart(4, "0") : item.number;
  const text = english() ? `${level} ${kind} ${number}` : `${level}${kind} ${number}`;
  return withYear && item.year ? t("with_year", text, item.year) : text;
}

// --- dates ------------------------------------------------------------------------------------
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const SHANGHAI_DAY = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric",
  month: "2-digit", day: "2-digit" });
const SHANGHAI_TIME = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", hour: "2-digit",
  minute: "2-digit", hour12: false });

/** The business date (Asia/Shanghai) of an instant, as YYYY-MM-DD. */
export const businessDay = (instant) => SHANGHAI_DAY.format(new Date(instant));

/** A date as people write it: 2020年11月20日, 20 Nov 2020 ("—" for none). */
export function formatDay(iso) {
  if (!iso) return "—";
  const [y, m, d] = String(iso).slice(0, 10).split("-").map(Number);
  if (!y || !m || !d) return String(iso);
  return english() ? `${d} ${MONTHS[m - 1]} ${y}` : `${y}年${m}月${d}日`;
}

/** An instant as its business date (Shanghai). */
export const formatInstantDay = (instant) => (instant ? formatDay(businessDay(instant)) : "—");

/** An instant as date and time of day (Shanghai): for system times (when recorded). */
export function formatMoment(instant) {
  if (!instant) return "—";
  return `${formatDay(businessDay(instant))} ${SHANGHAI_TIME.format(new Date(instant))}`;
}

/** Today in Shanghai, YYYY-MM-DD (the server's `today` where known). */
export const today = () => (session.vocabulary && session.vocabulary.today) || businessDay(Date.now());

/** A size in bytes as people read it. */
export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// A rate as the year-end document prints it (banli.documents.percent, the rule its 统计口径 states):
// a whole percent rounded half up, one decimal where that would show a shortfall as 100% or a few
// as 0%; "—" with nothing to count. Integers only, so the page and the document never differ.
export function percent(numerator, denominator) {
  if (!denominator) return "—";
  const whole = Math.floor((200 * numerator + denominator) / (2 * denominator));
  if ((whole === 100 && numerator < denominator) || (whole === 0 && numerator > 0)) {
    const tenths = Math.min(Math.max(Math.floor((2000 * numerator + denominator) / (2 * denominator)), 1), 999);
    return `${Math.floor(tenths / 10)}.${tenths % 10}%`;
  }
  return `${whole}%`;
}
