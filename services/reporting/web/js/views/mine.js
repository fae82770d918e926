// 我的建议 / 我的提案 (a deputy's or a member's own): only what they filed, as lead filer or
// co-signer (GET /api/my/proposals): each item's status, the office's review of it (filed and to
// whom assigned, merged into which, not filed and passed on to whom, returned for revision and
// why — with the resubmit form then), the bureaus handling it with their due
// dates, the contacts logged with them, the replies with their letters, and beside each lead
// reply the filer's own rating (满意 / 基本满意 / 不满意) — the registry's record_feedback form.
import { ApiError, getJSON, saveDownload } from "../api.js";
import { $, debounce, esc, redrawKeeping } from "../dom.js";
import { commandForm } from "../forms.js";
import { listen } from "../live.js";
import { session } from "../session.js";
import { bureauName, choiceLabel, commandOf, dutyRole, formatDay, formatSize, itemNumber, named, t } from "../words.js";
import { openItem } from "./item.js";

const state = { data: null };

/** The view's title: 我的建议 for a deputy's, 我的提案 for a member's, both where they have both. */
export function mineTitle(items) {
  const kinds = new Set((items || []).map((i) => i.kind));
  if (kinds.size === 1) return t(kinds.has("npc_suggestion") ? "mine_npc" : "mine_cppcc");
  return t("view_mine");
}

export const mineView = {
  name: "mine",
  title: () => mineTitle(state.data && state.data.items),
  render(main) {
    main.innerHTML = `<section class="mine" id="mine-view"><div class="card view-head"><h2 id="mine-title"></h2>
      <p class="muted" id="mine-who"></p><p class="error" id="mine-error" role="alert"></p></div>
      <div id="mine"></div></section>`;
    main.querySelector("#mine").addEventListener("click", onClick);
    load();
  },
  language() { if ($("mine-view")) draw(); },
  refresh: () => load(),
};

function onClick(event) {
  const letter = event.target.closest("[data-letter]");
  if (letter) { downloadLetter(letter); return; }
  const review = event.target.closest("[data-review-letter]");
  if (review) { downloadReviewLetter(review); return; }
  const open = event.target.closest("[data-open]");
  if (open) { event.preventDefault(); openItem(open.dataset.open); }
}

export async function load() {
  if (!$("mine-view")) return;
  try {
    state.data = await getJSON("/api/my/proposals");
  } catch (error) {
    $("mine-error").textContent = error instanceof ApiError ? error.describe() : String(error);
    return;
  }
  draw();
}

function draw() {
  const data = state.data;
  $("mine-title").textContent = mineTitle(data && data.items);
  if (!data) return;
  $("mine-who").textContent = data.filer ? t("filer_is", data.filer.name) : "";
  const host = $("mine");
  redrawKeeping(host, data.items, card, `<p class="card muted">${esc(t("nothing_filed"))}</p>`);
}

function card(item) {
  const node = document.createElement("article");
  node.className = "card mine-item";
  node.dataset.proposal = item.proposal_id;
  const duties = item.duties.map((d) => `<li data-bureau="${esc(d.bureau)}"><strong>${esc(bureauName(d.bureau))}</strong>`
    + ` <span class="tag">${esc(dutyRole(d.role))}</span> <span class="muted">${esc(t(d.role === "co" ? "opinion_due" : "reply_due"))} ${esc(formatDay(d.due))}</span>`
    + ` · ${esc(choiceLabel("duty_progress", d.status))}${d.replied_on ? ` · ${esc(t("replied_on", formatDay(d.replied_on)))}` : ""}`
    + `${d.acknowledged || d.replied_on ? "" : ` · ${esc(t("not_acknowledged"))}`}</li>`).join("");
  // handled only once filed: one not filed, merged or still under review has no bureaus
  const handled = item.review === "filed" || item.duties.length > 0;
  const contacts = item.contacts.map((c) => `<li>${esc(formatDay(c.on))} · ${esc(bureauName(c.bureau))} · ${esc(choiceLabel("contact_stage", c.stage))}`
    + ` · ${esc(choiceLabel("contact_method", c.method))}</li>`).join("");
  node.innerHTML = `<header class="mine-head"><a href="/app/?view=item&proposal=${encodeURIComponent(item.proposal_id)}" data-open="${esc(item.proposal_id)}">`
    + `<strong>${esc(itemNumber(item, true))}</strong></a> <span class="tag">${esc(named("filed_as", item.filed_as))}</span>`
    + ` <span class="tag">${esc(choiceLabel("filed_status", item.status))}</span></header>`
    + `<h3 class="item-title">${esc(item.title)}</h3>`
    + reviewSteps(item)
    + (handled ? `<h4>${esc(t("duties"))}</h4>${duties ? `<ul class="plain">${duties}</ul>` : `<p class="muted">${esc(t("not_assigned_yet"))}</p>`}` : "")
    + (contacts ? `<h4>${esc(t("contacts"))}</h4><ul class="plain">${contacts}</ul>` : "")
    + (handled ? `<h4>${esc(t("replies"))}</h4>` : "");
  const resubmit = commandOf("resubmit");
  if (item.may_resubmit && resubmit && resubmit.may_send) {
    // revised and sent back: the registry's form (the office classifies the area, not the filer)
    const holder = document.createElement("details");
    holder.className = "action resubmit";
    holder.dataset.command = resubmit.type;
    holder.open = true;
    holder.innerHTML = `<summary>${esc(t("resubmit_it"))}</summary>`;
    holder.append(commandForm(resubmit, { proposal: item.proposal_id, omit: ["area"],
      initial: { title: item.title }, onDone: () => load() }));
    node.querySelector(".review").after(holder);
  }
  const replies = document.createElement("div");
  replies.className = "replies";
  if (!handled) return node;
  if (!item.replies.length) replies.innerHTML = `<p class="muted">${esc(t("no_reply_yet"))}</p>`;
  for (const reply of item.replies) replies.append(replyBlock(item, reply));
  node.append(replies);
  return node;
}

/** The office's review, step by step (none for an item filed on submit). */
function reviewSteps(item) {
  const steps = item.review_steps || [];
  const lines = steps.map((s) => {
    let said = "";
    if (s.step === "received" || s.step === "resubmitted") said = t("review_due_on", formatDay(s.review_due));
    else if (s.step === "returned") said = s.reason;
    else if (s.step === "filed") said = s.area ? areaName(s.area) : "";
    else if (s.step === "merged") said = t("merged_into", s[session.lang === "zh" ? "merged_into_display" : "merged_into_display_en"] || s.merged_into);
    else if (s.step === "not_filed") said = `${t("passed_on_to", s.referred_to.join("、"))}${s.reason ? `（${s.reason}）` : ""}`;
    return `<li data-step="${esc(s.step)}">${esc(formatDay(s.on))} · <strong>${esc(named("review_steps", s.step))}</strong>${said ? ` · ${esc(said)}` : ""}</li>`;
  }).join("");
  // the review's letter to the filers (一件一函), as a document to keep
  const letter = `<p><button type="button" class="link" data-review-letter="${esc(item.proposal_id)}">${esc(t("review_letter"))}</button>`
    + `<span class="letter-error error"></span></p>`;
  return `<div class="review"${steps.length ? "" : " hidden"}><h4>${esc(t("review_title"))}</h4><ul class="plain">${lines}</ul>${letter}</div>`;
}

function areaName(code) {
  const found = ((state.data && state.data.areas) || []).find((a) => a.code === code);
  return found ? (session.lang === "zh" ? found.zh : found.en || found.zh) : code;
}

function replyBlock(item, reply) {
  const node = document.createElement("section");
  node.className = "reply";
  node.dataset.bureau = reply.bureau;
  const letter = reply.letter ? `<p><button type="button" class="link" data-letter="${esc(reply.letter.sha256)}" data-proposal="${esc(item.proposal_id)}"`
    + ` data-name="${esc(reply.letter.name)}">${esc(t("download_letter", reply.letter.name))}</button>`
    + ` <span class="muted">${esc(formatSize(reply.letter.size || 0))}</span><span class="letter-error error"></span></p>` : "";
  const fb = reply.feedback;
  const rated = fb ? `<p class="rated">${esc(t("your_rating"))}：<strong>${esc(choiceLabel("satisfaction", fb.satisfaction))}</strong>`
    + ` <span class="muted">${esc(formatDay(fb.on))} · ${esc(named("recorders", fb.recorder))}</span>${fb.comment ? `<br>${esc(fb.comment)}` : ""}</p>` : "";
  node.innerHTML = `<p><strong>${esc(bureauName(reply.bureau))}</strong> · ${esc(formatDay(reply.on))} · ${esc(choiceLabel("result", reply.result))}</p>`
    + (reply.summary ? `<p class="reason-text">${esc(reply.summary)}</p>` : "") + letter + rated;
  const rate = commandOf("record_feedback");
  if (reply.may_rate && rate && rate.may_send) {
    // the filer's own rating: the registry's form, for this reply's bureau, sent online
    const given = { bureau: reply.bureau };
    if (rate.fields.some((f) => f.name === "channel")) given.channel = "online";
    const holder = document.createElement("details");
    holder.className = "action rate";
    holder.dataset.command = rate.type;
    holder.open = !fb;
    holder.innerHTML = `<summary>${esc(t(fb ? "rate_again" : "rate_reply"))}</summary>`;
    holder.append(commandForm(rate, { proposal: item.proposal_id, given, onDone: () => load() }));
    node.append(holder);
  }
  return node;
}

async function downloadReviewLetter(button) {
  const error = button.parentElement.querySelector(".letter-error");
  error.textContent = "";
  try {
    await saveDownload(`/api/proposals/${encodeURIComponent(button.dataset.reviewLetter)}/review-letter`,
      { format: "docx", lang: session.lang }, "review-letter.docx");
  } catch (e) {
    error.textContent = e instanceof ApiError ? e.describe() : String(e);
  }
}

async function downloadLetter(button) {
  const error = button.parentElement.querySelector(".letter-error");
  error.textContent = "";
  try {
    await saveDownload(`/api/proposals/${encodeURIComponent(button.dataset.proposal)}/letters/${button.dataset.letter}`, null, button.dataset.name);
  } catch (e) {
    error.textContent = e instanceof ApiError ? e.describe() : String(e);
  }
}

listen(debounce((message) => { if (message.type === "events" && $("mine-view")) load(); }, 300));
