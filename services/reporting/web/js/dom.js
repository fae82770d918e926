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

// A form someone has typed into or chosen in (its `data-touched`): what redrawKeeping keeps.
for (const kind of ["input", "change"]) {
  document.addEventListener(kind, (event) => {
    const form = event.target instanceof Element ? event.target.closest("form") : null;
    if (form) form.dataset.touched = "1";
  }, true);
}

/** Whether someone is filling `form` in: typed or chosen in it, or in it now, and not sending
 *  it (while it is sent, and once it is accepted, its place is drawn afresh). */
function beingFilled(form) {
  if (form.getAttribute("aria-busy") === "true" || form.dataset.done === "accepted") return false;
  return form.dataset.touched === "1" || form.contains(document.activeElement);
}

/** Puts a fresh block for each of `items` into `host` (`make(item)`, keyed by
 *  `data-proposal`), except that a block with a form someone is filling in stays as it is, with
 *  what was typed: the lists are drawn again on every live batch, and a reason half typed must
 *  not vanish because someone else recorded something. `empty` is the markup shown when there
 *  are no items. */
export function redrawKeeping(host, items, make, empty = "") {
  const kept = new Map();
  for (const block of host.querySelectorAll(":scope > [data-proposal]")) {
    if ([...block.querySelectorAll("form")].some(beingFilled)) kept.set(block.dataset.proposal, block);
  }
  host.innerHTML = items.length ? "" : empty;
  for (const item of items) host.append(kept.get(item.proposal_id) || make(item));
}
