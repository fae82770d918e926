// 查找: items by number or words of the title (GET /api/search), only those this person may
// read; each opens the item. The top bar's box leads here: /app/?view=search&q=….
import { ApiError, getJSON } from "../api.js";
import { $, esc } from "../dom.js";
import { choiceLabel, itemNumber, named, t } from "../words.js";
import { openItem } from "./item.js";

const state = { q: "", data: null, error: null };

export const searchView = {
  name: "search",
  title: () => t("view_search"),
  render(main, params) {
    state.q = params.get("q") || "";
    main.innerHTML = `<section class="card search" id="search-view"><h2 id="search-title"></h2>
      <p class="error" id="search-error" role="alert"></p><ul class="results" id="results"></ul></section>`;
    main.querySelector("#results").addEventListener("click", (event) => {
      const row = event.target.closest("[data-proposal]");
      if (!row) return;
      event.preventDefault();
      openItem(row.dataset.proposal);
    });
    if ($("search")) $("search").value = state.q;
    load();
  },
  language() { if ($("search-view")) draw(); },
};

async function load() {
  state.data = null;
  state.error = null;
  draw();
  if (!state.q.trim()) return;
  try {
    state.data = await getJSON("/api/search", { q: state.q.trim(), limit: 50 });
  } catch (error) {
    state.error = error instanceof ApiError ? error.describe() : String(error);
  }
  draw();
}

function draw() {
  if (!$("search-view")) return;
  $("search-title").textContent = state.q ? t("search_for", state.q) : t("view_search");
  $("search-error").textContent = state.error || "";
  if (!state.data) {
    $("results").innerHTML = state.q && !state.error ? `<li class="muted">${esc(t("loading"))}</li>` : "";
    return;
  }
  $("results").innerHTML = state.data.items.map((i) => `<li data-proposal="${esc(i.proposal_id)}">`
    + `<a href="/app/?view=item&proposal=${encodeURIComponent(i.proposal_id)}"><strong>${esc(itemNumber(i, true))}</strong> ${esc(i.title)}</a>`
    + ` <span class="tag">${esc(named("proposal_status", i.status))}</span>`
    + (i.kind ? ` <span class="muted">${esc(choiceLabel("kind", i.kind))}</span>` : "") + `</li>`).join("")
    || `<li class="muted">${esc(t("nothing_found"))}</li>`;
}
