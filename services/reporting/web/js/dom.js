// Small helpers for building the page from text: every value that came from the server or a
// person is escaped before it goes into markup (the page never runs what it is sent).

export const $ = (id) => document.getElementById(id);

/** Text made safe for markup. */
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

/** An element from markup (its first element). */
export function element(markup) {
  const template = document.createElement("template");
  template.innerHTML = markup.trim();
  return template.content.firstElementChild;
}

/** A data-* attribute, or nothing when the value is empty. */
export const data = (name, value) => (value === undefined || value === null || value === ""
  ? "" : ` data-${name}="${esc(value)}"`);

/** Waits `ms` milliseconds after the last call before calling `fn` (a burst of live events
 *  refreshes once). */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}
