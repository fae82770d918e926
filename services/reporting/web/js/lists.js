// The lists' tables as the server declares them (GET /api/vocabulary's `lists`, from
// banli.domain.views.lists): the columns in order with their headers, each value shown by its column's
// kind in the same words the lists' spreadsheets carry (choices, 是/否, bureaus by name, items
// by their numbers, dates as people write them, rates as the 统计口径 rounds them). A table here
// and its "下载 Excel" have the same columns in the same order.
import { esc } from "./dom.js";
import {
  bureauName, choiceLabel, eventTitle, formatDay, formatInstantDay, formatMoment, itemNumber, label,
  percent, t,
} from "./words.js";
import { session } from "./session.js";

/** A list's columns (those named by `keys`, in the list's order, where given). */
export function columnsOf(name, keys) {
  const found = ((session.vocabulary || {}).lists || []).find((l) => l.name === name);
  const columns = found ? found.columns : [];
  return keys ? columns.filter((c) => keys.includes(c.key)) : columns;
}

/** A row's value under a column, as people read it (banli.domain.views.lists.shown, in words). */
export function cellText(column, row) {
  const value = row[column.key];
  switch (column.kind) {
    case "display": return itemNumber(row) || row.proposal_id || "";
    case "bureau": return bureauName(value);
    case "choice": return choiceLabel(column.choice || column.key, value);
    case "flag": return t(value ? "yes" : "no");
    case "event": return eventTitle(value);
    case "user": { const actor = value || row.actor; return (actor && actor.user) || ""; }
    case "date": return formatDay(value);
    case "day_of": return formatInstantDay(value);
    case "moment": return formatMoment(value);
    case "rate": return value ? percent(value.numerator, value.denominator) : "—";
    default: return value === null || value === undefined ? "—" : String(value);
  }
}

/** A table's markup: the header from the columns' words, a row per item. `row(item)` gives a
 *  row's attributes (its class, data-*); `cell(column, item, text)` a cell's markup where it is
 *  more than its text (a link, a tag); `head` the first column as each row's header; `empty`
 *  the text of the one row shown when there are no items (and its class). */
export function listTable(columns, items, { row = () => "", cell = null, head = false, empty = t("no_items"), emptyClass = "" } = {}) {
  const header = `<thead><tr>${columns.map((c) => `<th data-key="${esc(c.key)}">${esc(label(c))}</th>`).join("")}</tr></thead>`;
  const body = items.map((item) => `<tr${row(item)}>` + columns.map((c, i) => {
    const text = cellText(c, item);
    const inner = (cell && cell(c, item, text)) ?? esc(text);
    return i === 0 && head ? `<th scope="row" data-key="${esc(c.key)}">${inner}</th>`
      : `<td data-key="${esc(c.key)}" data-label="${esc(label(c))}">${inner}</td>`;
  }).join("") + "</tr>").join("");
  const none = `<tr><td colspan="${columns.length || 1}"${emptyClass ? ` class="${esc(emptyClass)}"` : ""}>${esc(empty)}</td></tr>`;
  return `${header}<tbody>${body || none}</tbody>`;
}
