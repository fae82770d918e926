// Banli's page: native ES modules, no build step (README: "The page"). This module signs the
// person in, draws the top bar (the views this person has, with the counts of their work, the
// search box, the live feed's state, who they are, the language) and shows the view the URL
// names: /app/?view=work|desk|dashboard|intake|item|mine|imports|search. Each view is a module of
// views/; the words are in i18n/, the forms come from the vocabulary (forms.js).
import { getJSON, request } from "./api.js";
import { $, debounce, esc } from "./dom.js";
import { closeDrawer, drawerList, hideDrawer, isOpen, openDrawer, redrawDrawer, wireDrawer } from "./drawer.js";
import * as live from "./live.js";
import { may, session } from "./session.js";
import { saveDownload } from "./api.js";
import { bureauName, roleName, t } from "./words.js";
import { dashboardView, resizeCharts } from "./views/dashboard.js";
import { deskView } from "./views/desk.js";
import { intakeView } from "./views/intake.js";
import { importsView, offered } from "./views/imports.js";
import { itemView, openItem } from "./views/item.js";
import { mineTitle, mineView } from "./views/mine.js";
import { searchView } from "./views/search.js";
import { workView } from "./views/work.js";

const VIEWS = { work: workView, desk: deskView, dashboard: dashboardView, mine: mineView, imports: importsView,
  item: itemView, search: searchView, intake: intakeView };
// The dashboard's scope in a URL without `view` (links made before the views, and the year-end
// documents' figures: ?years=…&as_of=…&measure=…) opens the dashboard.
const SCOPE = ["years", "as_of", "bureau", "all", "kind", "level", "profile", "recorded_by", "measure", "entries"];
let shown = null;

/** The views this person has, in the top bar's order (the permission table decides). */
function views() {
  const role = session.me.role;
  if (role === "filer") return ["mine"];
  const found = [];
  if (role === "clerk" || role === "admin") found.push("work");
  if (may("read:routing")) found.push("desk");
  if (may("read:report")) found.push("dashboard");
  if (may("read:intake")) found.push("intake");
  const imports = offered();
  if (imports.assignments || imports.replies) found.push("imports");
  return found;
}

/** Where each role lands: the clerk on 待办, the coordinator on 交办台, the overseer on the
 *  dashboard, the filer on their own; anyone else on the first view they have. */
function landing() {
  const wanted = { clerk: "work", coordinator: "desk", overseer: "dashboard", filer: "mine", importer: "imports",
    admin: "dashboard" }[session.me.role];
  const have = views();
  return have.includes(wanted) ? wanted : have[0] || "search";
}

// --- sign in ----------------------------------------------------------------------------------
async function signIn(token) {
  session.token = token.trim();
  try {
    session.me = await getJSON("/api/me");
  } catch (error) {
    session.token = null;
    sessionStorage.removeItem("banli.token");
    showSignIn(`${t("bad_token")}（${error.describe ? error.describe() : error}）`);
    return;
  }
  sessionStorage.setItem("banli.token", session.token);
  try {
    const [names, vocabulary] = await Promise.all([getJSON("/api/bureaus"), getJSON("/api/vocabulary")]);
    session.names = names.bureaus;
    session.vocabulary = vocabulary;
  } catch (error) {
    showSignIn(error.describe ? error.describe() : String(error));
    return;
  }
  $("signin").hidden = true;
  $("signout").hidden = false;
  document.body.dataset.role = session.me.role;
  drawTopBar();
  route();
  // the live feed, for those the permission table lets follow it
  $("live").hidden = !may("read:live");
  if (may("read:live")) live.follow(setLive);
  counts();
  freshness();
}

function showSignIn(error) {
  $("signin").hidden = false;
  $("view").innerHTML = "";
  $("signin-error").textContent = error || "";
  offerProviders();
}

async function signOut() {
  // The token is revoked on the server; where an identity provider signed the user in, its
  // session ends too (it sends the browser back to the page, signed out).
  live.stop();
  let answer = {};
  try { answer = await (await request("/api/signout", { method: "POST" })).json(); } catch (_) { /* signed out here all the same */ }
  sessionStorage.removeItem("banli.token");
  session.token = null;
  if (answer.end_session) { location.assign(answer.end_session); return; }
  location.hash = "";
  location.assign("/app/");
}

async function offerProviders() {
  try {
    const providers = await (await fetch("/auth/providers")).json();
    $("signin-idp-row").hidden = !providers.oidc;
    // back to this very view (scope, dates) once signed in
    $("signin-idp").href = `${providers.login}?next=${encodeURIComponent(location.pathname + location.search)}`;
  } catch (_) { /* tokens only */ }
}

// --- the top bar ------------------------------------------------------------------------------
function viewTitle(name) {
  return name === "mine" ? mineTitle(null) : VIEWS[name].title();
}

function drawTopBar() {
  const nav = $("nav");
  nav.hidden = false;
  nav.innerHTML = views().map((name) => `<a href="/app/?view=${name}" class="tab" data-view="${name}">`
    + `<span class="tab-name">${esc(viewTitle(name))}</span><span class="count" id="count-${name}"></span></a>`).join("");
  $("search-form").hidden = !(may("read:proposal") || session.me.role === "filer");
  const where = session.me.bureau ? ` · ${bureauName(session.me.bureau)}` : "";
  $("who").textContent = `${session.me.user} · ${roleName(session.me.role)}${where}`;
  highlight();
}

function highlight() {
  for (const tab of $("nav").querySelectorAll(".tab")) {
    const on = shown && tab.dataset.view === shown.name;
    tab.classList.toggle("on", Boolean(on));
    if (on) tab.setAttribute("aria-current", "page"); else tab.removeAttribute("aria-current");
  }
}

/** The counts of my work beside each view's name: what the bureau owes, what awaits the desk,
 *  the replies a filer has not rated. */
async function counts() {
  const set = (name, n) => { const node = $(`count-${name}`); if (node) node.textContent = n ? String(n) : ""; };
  const have = views();
  if (have.includes("work") && session.me.role === "clerk") {
    getJSON("/api/work").then((w) => set("work", w.total)).catch(() => set("work", ""));
  }
  if (have.includes("desk")) {
    // what waits on the coordinator: to assign, to route again, extensions to decide
    getJSON("/api/desk").then((d) => set("desk", d.awaiting.length + d.returned.length + d.extension_requests.length))
      .catch(() => set("desk", ""));
  }
  if (have.includes("mine")) {
    getJSON("/api/my/proposals").then((m) => set("mine", m.items.flatMap((i) => i.replies).filter((r) => r.may_rate && !r.feedback).length))
      .catch(() => set("mine", ""));
  }
}

async function freshness() {
  // how far the projections are behind the log (both modes' /api/status give `lag`), for the
  // roles that may ask (read:status: operators and oversight)
  const node = $("freshness");
  node.hidden = !may("read:status");
  if (node.hidden) return;
  let lag = null;
  try { lag = (await getJSON("/api/status")).lag; } catch (_) { lag = null; }
  node.dataset.state = lag === null || lag === undefined ? "unknown" : lag > 0 ? "behind" : "fresh";
  node.dataset.lag = lag ?? "";
  drawFreshness();
}

function drawFreshness() {
  const node = $("freshness");
  const state = node.dataset.state;
  node.textContent = !state || state === "unknown" ? t("fresh_unknown") : state === "behind" ? t("behind", node.dataset.lag) : t("fresh");
}

function setLive(state) {
  $("live").dataset.state = state;
  $("live-text").textContent = t(state === "off" ? "live_off" : "live_on");
}

// --- views ------------------------------------------------------------------------------------
function route() {
  const params = new URLSearchParams(location.search);
  let name = params.get("view");
  if (!name && SCOPE.some((key) => params.has(key))) name = "dashboard";
  const open = ["item", "search"];
  if (!VIEWS[name] || !(views().includes(name) || open.includes(name))) name = landing();
  shown = VIEWS[name];
  const main = $("view");
  main.dataset.view = name;
  main.innerHTML = "";
  shown.render(main, params);
  document.title = `${viewTitle(name)} · ${t("title")}`;
  highlight();
}

// Each view's address as it was last left (the dashboard's scope, the desk's years): its tab
// goes back to it.
const left = {};

/** Goes to another view (a new entry in the browser's history). */
export function go(url) {
  if (isOpen()) {
    hideDrawer();
    history.replaceState(null, "", location.href);
  }
  if (shown) left[shown.name] = location.pathname + location.search;
  history.pushState(null, "", url);
  route();
  window.scrollTo(0, 0);
}

function applyLanguage() {
  document.documentElement.lang = session.lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  $("lang").textContent = session.lang === "zh" ? "English" : "中文";
  setLive($("live").dataset.state || "off");
  if (!session.me) return;
  drawTopBar();
  drawFreshness();
  counts();
  if (shown) {
    document.title = `${viewTitle(shown.name)} · ${t("title")}`;
    if (shown.language) shown.language($("view"));
    else route();
  }
  redrawDrawer();
}

document.addEventListener("DOMContentLoaded", () => {
  applyLanguage();
  wireDrawer();
  $("lang").addEventListener("click", () => {
    session.lang = session.lang === "zh" ? "en" : "zh";
    localStorage.setItem("banli.lang", session.lang);
    applyLanguage();
  });
  $("signout").addEventListener("click", signOut);
  $("signin-go").addEventListener("click", () => signIn($("token").value));
  $("nav").addEventListener("click", (event) => {
    const tab = event.target.closest("a.tab");
    if (!tab || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    go(left[tab.dataset.view] || tab.getAttribute("href"));
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = $("search").value.trim();
    if (q) go(`/app/?view=search&q=${encodeURIComponent(q)}`);
  });
  $("drawer-xlsx").addEventListener("click", async () => {
    const list = drawerList();
    if (!list) return;
    try {
      await saveDownload(list[0], { ...list[1], format: "xlsx", lang: session.lang }, "banli.xlsx");
    } catch (error) {
      $("drawer-body").insertAdjacentHTML("afterbegin", `<p class="error">${esc(error.describe ? error.describe() : error)}</p>`);
    }
  });
  // a link to another item anywhere (a merged item, a similar past proposal): in the drawer
  document.body.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-item], tr[data-item]");
    if (!link || !session.me) return;
    event.preventDefault();
    openItem(link.dataset.item, { keep: isOpen() });
  });
  window.addEventListener("popstate", (event) => {
    if (isOpen() && !(event.state && event.state.drawer)) { hideDrawer(); return; }
    if (session.me) route();
  });
  window.addEventListener("resize", debounce(resizeCharts, 100));
  // the drawer opens below the top bar, whose height follows its wrapping
  new ResizeObserver(([entry]) => document.documentElement.style.setProperty(
    "--topbar", `${Math.ceil(entry.target.getBoundingClientRect().height)}px`)).observe(document.querySelector(".topbar"));
  live.listen(debounce((message) => { if (message.type === "events") { counts(); freshness(); } }, 1000));
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) history.replaceState(null, "", location.pathname + location.search);
  const token = fromHash || sessionStorage.getItem("banli.token");
  if (token) signIn(token);
  else showSignIn("");
});

// closeDrawer and openDrawer are the drawer's own; main only wires its buttons
void closeDrawer; void openDrawer;
