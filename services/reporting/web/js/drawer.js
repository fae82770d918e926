// The drawer beside a view: a list behind a number, an item, a spreadsheet's preview. What it
// shows is a stack (a list, then an item of it: 返回 goes back to the list); each entry draws
// itself into the drawer's body and again when the language changes. On a phone the drawer
// fills the screen, and the browser's back button closes it.
import { $ } from "./dom.js";
import { t } from "./words.js";

let stack = [];   // [{title, draw, frame}]: a title is text, or a function giving it
const titleText = (entry) => (typeof entry.title === "function" ? entry.title() : entry.title);

/** Shows `draw(frame)` in the drawer, under `title`; `keep` keeps what it showed before to
 *  go back to. `frame` has `body`, `current()` (whether the drawer still shows this entry: an
 *  answer arriving late draws nothing), `title(text)` and `download(path, params)`. */
export function openDrawer(title, draw, { keep = false } = {}) {
  if (!keep) stack = [];
  if ($("drawer").hidden && !(history.state && history.state.drawer)) {
    history.pushState({ ...(history.state || {}), drawer: true }, "", location.href);
  }
  stack.push({ title, draw });
  show();
}

function show() {
  const entry = stack[stack.length - 1];
  const frame = {
    body: $("drawer-body"),
    current: () => stack[stack.length - 1] === entry && !$("drawer").hidden,
    title: (text) => {
      if (!frame.current()) return;
      entry.title = text;
      $("drawer-title").textContent = titleText(entry);
    },
    download: (path, params) => { entry.list = [path, params]; if (frame.current()) $("drawer-xlsx").hidden = false; },
  };
  entry.frame = frame;
  $("drawer").hidden = false;
  document.body.classList.add("drawer-open");
  $("drawer-title").textContent = titleText(entry);
  $("drawer-back").hidden = stack.length < 2;
  $("drawer-xlsx").hidden = !entry.list;
  $("drawer-body").innerHTML = `<p class="muted">${t("loading")}</p>`;
  $("drawer-body").scrollTop = 0;
  entry.draw(frame);
}

/** The list the drawer shows, for its 下载 Excel: [path, params], or null. */
export const drawerList = () => (stack.length ? stack[stack.length - 1].list || null : null);

export function back() {
  if (stack.length < 2) return;
  stack.pop();
  show();
}

export const isOpen = () => !$("drawer").hidden;

/** Hides the drawer (the browser's back, or 关闭). */
export function hideDrawer() {
  stack = [];
  $("drawer").hidden = true;
  document.body.classList.remove("drawer-open");
  $("drawer-body").innerHTML = "";
}

/** 关闭: back in the browser's history where opening the drawer added an entry. */
export function closeDrawer() {
  if (history.state && history.state.drawer) history.back();
  else hideDrawer();
}

/** Draws the drawer's entry again (the language changed). */
export function redrawDrawer() {
  if (!stack.length || $("drawer").hidden) return;
  const entry = stack[stack.length - 1];
  $("drawer-title").textContent = titleText(entry);
  entry.draw(entry.frame);
}

export function wireDrawer() {
  $("drawer-close").addEventListener("click", closeDrawer);
  $("drawer-back").addEventListener("click", back);
}
