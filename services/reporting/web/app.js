// Banli oversight page. Plain JavaScript, no build step: reads the authenticated API, draws with
// ECharts (served locally), follows /api/live (server-sent events) and refreshes within a second.
"use strict";

const I18N = {
  zh: {
    title: "建议提案办理督办", live_off: "未连接", live_on: "实时",
    fresh: "统计数据已与记录同步", behind: (n) => `统计数据落后 ${n} 条记录，正在更新`,
    fresh_unknown: "统计数据同步情况未知", sign_in: "登录", sign_out: "退出",
    sign_in_help: "或粘贴 banli token issue 生成的令牌（也可在网址后加 #token=…）。", bad_token: "令牌无效或已过期",
    sign_in_idp: "统一身份认证登录",
    bureau: "承办单位", years: "年度", as_of: "截至日期", recorded_by: "记录截至", kind: "类别",
    all_kinds: "全部", profile: "口径", refresh: "查询", download: "下载报告", all_bureaus: "全部单位",
    npc_suggestion: "人大代表建议", cppcc_proposal: "政协提案",
    results_title: "办理结果（A/B/C/D 类）", rates_title: "各项比率：本年与上年", feed_title: "实时动态",
    league_title: "承办单位排行", owed_title: "到期提醒", back: "返回", close: "关闭",
    overdue: "逾期", due_soon: "临期", this_year: "本年", last_year: "上年", last_year_short: "上年",
    clocks: (a, r) => `业务截至 ${a}（按发生时间）；` + (r ? `系统记录截至 ${r}（审计视图：当时系统所见）` : "系统记录：至今"),
    duties: "承办件次", proposals: "涉及件数", lead: "主办", co: "会办", replied: "已答复",
    "result.solved": "A 已解决或采纳", "result.planned": "B 正在解决或列入计划",
    "result.deferred": "C 待以后解决", "result.reference": "D 留作参考",
    due_lead: "主办应办复", on_time_lead: "主办按期", late_lead: "主办逾期或未按期", due_co: "会办应反馈",
    on_time_co: "会办按期", late_co: "会办逾期", adopted: "解决采纳", contacted: "答复前已沟通",
    unreplied: "未答复", disclosed: "已公开（全文或摘要）", disclosure_base: "应公开（除依法不公开）",
    feedback_any: "已反馈", satisfied_any: "满意与基本满意",
    feedback_by_self: "满意度由承办单位自行录入", "feedback_recorders.filer": "满意度由代表委员本人录入",
    "feedback_recorders.office": "满意度由交办单位录入", "feedback_recorders.bureau": "满意度由承办单位自行录入",
    "disclosure.full": "全文公开", "disclosure.summary": "摘要公开", "disclosure.withheld": "不公开",
    "disclosure.exempt": "依法不公开", "disclosure.undecided": "未定",
    "feedback.satisfied": "满意", "feedback.basically_satisfied": "基本满意", "feedback.dissatisfied": "不满意",
    "npc_suggestion.lead": "人大建议·主办", "npc_suggestion.co": "人大建议·会办",
    "cppcc_proposal.lead": "政协提案·主办", "cppcc_proposal.co": "政协提案·会办",
    number: "案号", item_title: "标题", role: "角色", assigned_on: "交办日", due: "期限", first_reply_on: "首次答复",
    first_opinion_on: "会办意见", result: "结果", counted: "计入分子", yes: "是", no: "否",
    owed: "待办", days_left: "剩余天数", reply: "答复", "re-reply": "重新答复", opinion: "会办意见",
    items_of: (label, n) => `${label}：${n} 件次`, rate_of: (label, c, n) => `${label}：${c} / ${n}`,
    history_of: (id) => `${id} 的全部事件`, occurred: "发生", recorded: "记录", actor: "操作人",
    command: "指令", none: "无", no_items: "没有记录", loading: "加载中…",
    denied: "无权查看", forbidden_note: "（本单位以外的事项不显示）",
    awaiting_title: "待交办", submitted_on: "提交日", bounced: "曾退回", assign: "交办",
    assign_title: (id) => `交办 ${id}`, suggested_lead: "建议主办单位", suggested_co: "建议会办单位",
    similar: "相似的往年建议提案", score: "得分", support: "依据件数", based_on: (n) => `依据 ${n} 件往年建议提案`,
    assign_go: "确认交办", assigned_ok: "已交办", lead_bureau: "主办单位", co_bureaus: "会办单位（可多选）",
    deadlines: "期限说明", rule: "规则", extensions: "延期", status: "状态", return_window: "退回期限",
    publish_due: "公开期限", calendar: "工作日历", misrouted_days: "误派耽误(天)",
    late_entries: "逾期补录", provisional: "暂定",
    supervise: "督办", supervise_whom: "督办对象", supervise_note: "督办意见", whole_proposal: "整件",
    supervised_ok: "已督办",
    entries_sub: (e) => `共 ${e.records} 条记录 · 导入 ${e.imported} 条 · 超过 ${e.late_after_working_days} 个工作日录入计为逾期`,
    entries_of: (label, n) => `${label}：${n} 条记录`, entry_type: "记录", entry: "录入",
    entry_kinds: { late: "逾期补录", imported: "批量导入", on_time: "按时录入", all: "办理记录" },
    st: { on_time: "按期", late: "逾期办结", overdue: "已逾期", pending: "未到期", unknown: "无法判断", not_due: "不需公开" },
    download_xlsx: "下载 Excel", annex_xlsx: "附表 Excel", evidence_xlsx: "数据依据 Excel",
    doc_number: "发文字号", doc_term: "届起始年度", doc_date: "成文日期",
    first_undisclosed: "首次答复未公开", "first_undisclosed.full": "首次未公开·现全文公开",
    "first_undisclosed.summary": "首次未公开·现摘要公开", "first_undisclosed.withheld": "首次未公开·仍不公开",
    "first_undisclosed.exempt": "首次未公开·依法不公开", "first_undisclosed.undecided": "首次未公开·现未定",
    import_title: "导入表格", import_assignments: "导入交办清单", import_replies: "导入答复情况",
    kind_from_sheet: "按表格（列或标题）", year_from_sheet: "按表格", year: "年度",
    default_assigned_on: "交办日期（表中未注明时）",
    inferred_title: "从表格推断", page_rows: (first, last, total) => `第 ${first}–${last} 项，共 ${total} 项`,
    page_none: "没有符合的行", prev_page: "上一页", next_page: "下一页", all_statuses: "全部状态",
    upload_preview: "上传并预览", choose_bureau: "请先在上方选择承办单位",
    uploading: (name) => `正在上传并读取 ${name}……`,
    preview_of: (what, name, done) => `${what}：${name}` + (done ? "（已导入）" : "（预览，尚未导入）"),
    sheet_info: (p) => `工作表“${p.sheet}” · 表头第 ${span(p.header_rows)} 行`
      + (p.ignored_columns.length ? ` · 未读取的列：${p.ignored_columns.join("、")}` : "")
      + (p.skipped.length ? ` · 跳过 ${p.skipped.length} 行（分类标题或备注）` : ""),
    rows_total: (n) => `共 ${n} 行`, will_send: (n) => `将发送 ${n} 条指令`,
    sheet_status: { new: "新增", unchanged: "无变化", differs: "有出入", refused: "拒绝" },
    sheet_row: "行", sends: "将发送的指令 / 不导入的原因", nothing_to_send: "系统中已有，内容一致，不发送",
    differs_note: "系统中已有但内容不同，不发送（更正请用调整交办等指令）：",
    commit: (n) => `确认导入（发送 ${n} 条指令）`, committing: "正在导入……", nothing_to_commit: "没有需要导入的行",
    committed_title: "导入结果", why: "原因",
    commit_status: { imported: "已导入", already: "此前已导入", refused: "被拒绝", pending: "待处理" },
    commit_more: (c) => `预览中拒绝 ${c.refused_in_preview} 行 · 无变化 ${c.unchanged} 行 · 有出入 ${c.differs} 行 · 共发送 ${c.commands} 条指令`,
    commit_rows: "导入时被拒绝或待处理的行", pending_note: "尚无答复，重新导入同一表格即可完成",
    field: { title: "标题", filers: "提案人", affiliation: "界别/代表团", topics: "类别", leads: "主办单位",
      cos: "会办单位", result: "办理结果", disclosure: "公开方式", signed_by: "签发人" },
    contact_method: { phone: "电话", visit: "走访", meeting: "座谈", online: "网络", letter: "信函" },
    events: {
      BureauRegistered: "单位登记", ProposalSubmitted: "提交", ProposalAssigned: "交办",
      AssignmentAcknowledged: "签收", AssignmentReturned: "退回", ProposalReassigned: "重新交办",
      ContactLogged: "沟通", OpinionSubmitted: "会办意见", ReplyIssued: "答复", DisclosureDecided: "公开决定",
      ReplyDrafted: "答复起草", ReplySignedOff: "会签", ReplyRegraded: "结果调整", ReplyApproved: "签发",
      FeedbackRecorded: "意见反馈", HandlingReopened: "重新办理", ResultRevised: "结果修订",
      DeadlineExtended: "延期", ProposalSupervised: "督办", ProposalWithdrawn: "撤回", ProposalMerged: "并案",
    },
  },
  en: {
    title: "Suggestions & proposals: oversight", live_off: "offline", live_on: "live",
    fresh: "numbers up to date with the records", behind: (n) => `numbers ${n} records behind, catching up`,
    fresh_unknown: "freshness unknown", sign_in: "Sign in",
    sign_out: "Sign out", sign_in_help: "Or paste a token from `banli token issue` (or add #token=… to the URL).",
    sign_in_idp: "Sign in with your organisation's account",
    bad_token: "invalid or expired token", bureau: "Bureau", years: "Years", as_of: "As of", recorded_by: "As recorded on",
    kind: "Kind", all_kinds: "All", profile: "Profile", refresh: "Show", download: "Report", all_bureaus: "All bureaus",
    npc_suggestion: "NPC suggestions", cppcc_proposal: "CPPCC proposals",
    results_title: "Results (A/B/C/D)", rates_title: "Rates: this year and last", feed_title: "Live events",
    league_title: "Bureaus", owed_title: "Deadlines", back: "Back", close: "Close",
    overdue: "overdue", due_soon: "due soon", this_year: "this year", last_year: "last year", last_year_short: "last yr",
    clocks: (a, r) => `Business date: as of ${a}; ` + (r ? `as recorded by ${r} (audit view: what the system showed then)` : "as recorded: now"),
    duties: "Duties", proposals: "Proposals", lead: "Lead", co: "Co", replied: "Replied",
    "result.solved": "A solved", "result.planned": "B planned", "result.deferred": "C deferred",
    "result.reference": "D reference",
    due_lead: "Lead due", on_time_lead: "Lead on time", late_lead: "Lead late", due_co: "Co due",
    on_time_co: "Co on time", late_co: "Co late", adopted: "Adopted", contacted: "Contacted before reply",
    unreplied: "Not replied", disclosed: "Disclosed", disclosure_base: "Disclosable",
    feedback_any: "With feedback", satisfied_any: "Satisfied",
    feedback_by_self: "Feedback recorded by the bureau itself", "feedback_recorders.filer": "Feedback recorded by the filer",
    "feedback_recorders.office": "Feedback recorded by the office", "feedback_recorders.bureau": "Feedback recorded by the bureau itself",
    "disclosure.full": "full", "disclosure.summary": "summary", "disclosure.withheld": "withheld",
    "disclosure.exempt": "exempt", "disclosure.undecided": "undecided",
    "feedback.satisfied": "satisfied", "feedback.basically_satisfied": "basically satisfied",
    "feedback.dissatisfied": "dissatisfied",
    "npc_suggestion.lead": "NPC lead", "npc_suggestion.co": "NPC co", "cppcc_proposal.lead": "CPPCC lead",
    "cppcc_proposal.co": "CPPCC co",
    number: "No.", item_title: "Title", role: "Role", assigned_on: "Assigned", due: "Due", first_reply_on: "First reply",
    first_opinion_on: "Opinion", result: "Result", counted: "In numerator", yes: "yes", no: "no",
    owed: "Owed", days_left: "Days left", reply: "reply", "re-reply": "reply again", opinion: "opinion",
    items_of: (label, n) => `${label}: ${n}`, rate_of: (label, c, n) => `${label}: ${c} / ${n}`,
    history_of: (id) => `All events of ${id}`, occurred: "occurred", recorded: "recorded", actor: "by",
    command: "command", none: "none", no_items: "nothing", loading: "loading…",
    denied: "not allowed", forbidden_note: "(other bureaus' items are not shown)",
    awaiting_title: "To assign", submitted_on: "Submitted", bounced: "returned before", assign: "Assign",
    assign_title: (id) => `Assign ${id}`, suggested_lead: "Suggested lead", suggested_co: "Suggested co-handlers",
    similar: "Similar past proposals", score: "score", support: "based on", based_on: (n) => `learned from ${n} past proposals`,
    assign_go: "Assign", assigned_ok: "Assigned", lead_bureau: "Lead bureau", co_bureaus: "Co-handlers (several)",
    deadlines: "Deadlines", rule: "Rule", extensions: "Extensions", status: "Status", return_window: "Return window",
    publish_due: "Publish by", calendar: "Calendar", misrouted_days: "Misrouted (days)",
    late_entries: "Entered late", provisional: "provisional",
    supervise: "Supervise", supervise_whom: "Whom", supervise_note: "Note", whole_proposal: "the whole item",
    supervised_ok: "Supervised",
    entries_sub: (e) => `of ${e.records} records · ${e.imported} imported · late: over ${e.late_after_working_days} working days`,
    entries_of: (label, n) => `${label}: ${n} records`, entry_type: "Record", entry: "Entry",
    entry_kinds: { late: "entered late", imported: "imported", on_time: "on time", all: "records" },
    st: { on_time: "on time", late: "late", overdue: "overdue", pending: "pending", unknown: "unknown", not_due: "not to publish" },
    download_xlsx: "Download Excel", annex_xlsx: "Annex (Excel)", evidence_xlsx: "Evidence (Excel)",
    doc_number: "Document No.", doc_term: "Term from", doc_date: "Dated",
    first_undisclosed: "First left undisclosed", "first_undisclosed.full": "First undisclosed, now in full",
    "first_undisclosed.summary": "First undisclosed, now a summary", "first_undisclosed.withheld": "First undisclosed, still withheld",
    "first_undisclosed.exempt": "First undisclosed, exempt", "first_undisclosed.undecided": "First undisclosed, now undecided",
    import_title: "Import a spreadsheet", import_assignments: "Import assignment list", import_replies: "Import reply list",
    kind_from_sheet: "as the sheet says (column or title)", year_from_sheet: "as the sheet says",
    year: "Year", default_assigned_on: "Assigned on (where the sheet has none)",
    inferred_title: "Inferred from the sheet", page_rows: (first, last, total) => `items ${first}–${last} of ${total}`,
    page_none: "no rows", prev_page: "Previous", next_page: "Next", all_statuses: "every status",
    upload_preview: "Upload and preview", choose_bureau: "choose a bureau above first",
    uploading: (name) => `Uploading and reading ${name}…`,
    preview_of: (what, name, done) => `${what}: ${name}` + (done ? " (imported)" : " (preview, nothing imported yet)"),
    sheet_info: (p) => `Sheet "${p.sheet}" · header in row ${span(p.header_rows)}`
      + (p.ignored_columns.length ? ` · columns not read: ${p.ignored_columns.join(", ")}` : "")
      + (p.skipped.length ? ` · ${p.skipped.length} rows skipped (headings or notes)` : ""),
    rows_total: (n) => `${n} rows`, will_send: (n) => `${n} commands to send`,
    sheet_status: { new: "new", unchanged: "unchanged", differs: "differs", refused: "refused" },
    sheet_row: "Row", sends: "What it sends / why not", nothing_to_send: "already in Banli as the sheet says: nothing to send",
    differs_note: "in Banli otherwise: nothing sent (correct it with reassign and the like):",
    commit: (n) => `Commit (send ${n} commands)`, committing: "Importing…", nothing_to_commit: "nothing to import",
    committed_title: "Import result", why: "Reason",
    commit_status: { imported: "imported", already: "already there", refused: "refused", pending: "pending" },
    commit_more: (c) => `refused in the preview ${c.refused_in_preview} · unchanged ${c.unchanged} · differs ${c.differs} · ${c.commands} commands sent`,
    commit_rows: "Rows refused or pending at commit", pending_note: "no answer yet: importing the same sheet again finishes it",
    field: { title: "title", filers: "filers", affiliation: "affiliation", topics: "topics", leads: "leads",
      cos: "co-handlers", result: "result", disclosure: "disclosure", signed_by: "signed by" },
    contact_method: { phone: "phone", visit: "visit", meeting: "meeting", online: "online", letter: "letter" },
    events: {},
  },
};
// the report's rates and their names come from the rate table (GET /api/vocabulary)
let RATES = [];
const RESULTS = ["solved", "planned", "deferred", "reference"];

const S = { lang: localStorage.getItem("banli.lang") || "zh", token: null, me: null, data: null,
  live: null, refreshTimer: null, history: [] };
const $ = (id) => document.getElementById(id);
const t = (key) => { const v = I18N[S.lang][key]; return v === undefined ? (I18N.zh[key] ?? key) : v; };
const eventName = (type) => (S.lang === "zh" ? I18N.zh.events[type] : null)
  || type.replace(/(?!^)([A-Z])/g, " $1").replace(/ ([A-Z])/g, (_, c) => ` ${c.toLowerCase()}`);
// A rate as the year-end document prints it (banli.documents.percent, the rule its 统计口径 states):
// a whole percent rounded half up, one decimal where that would show a shortfall as 100% or a few
// as 0%; "—" with nothing to count. Integers only, so the page and the document never differ.
function percent(numerator, denominator) {
  if (!denominator) return "—";
  const whole = Math.floor((200 * numerator + denominator) / (2 * denominator));
  if ((whole === 100 && numerator < denominator) || (whole === 0 && numerator > 0)) {
    const tenths = Math.min(Math.max(Math.floor((2000 * numerator + denominator) / (2 * denominator)), 1), 999);
    return `${Math.floor(tenths / 10)}.${tenths % 10}%`;
  }
  return `${whole}%`;
}
const pct = (fraction) => (fraction ? percent(fraction.numerator, fraction.denominator) : "—");
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
// a name from one of I18N's tables (sheet_status, field, contact_method ...), else the key itself
const named = (table, key) => (I18N[S.lang][table] || {})[key] ?? I18N.zh[table][key] ?? key;
const span = ([first, last]) => (last === undefined || last === first ? `${first}` : `${first}–${last}`);
const inLanguage = (said) => (S.lang === "zh" ? said.message : said.message_en) || said.message;

// --- API -----------------------------------------------------------------------------------------
async function api(path, params, init = {}) {
  const url = params ? `${path}?${new URLSearchParams(params)}` : path;
  const response = await fetch(url, { ...init, headers: { Authorization: `Bearer ${S.token}`, ...init.headers } });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// An error answer ({"detail": {"code", "message", "message_en"}}) as an Error in the page's language.
async function failure(response) {
  let detail = {};
  try { detail = (await response.json()).detail || {}; } catch (_) { /* not JSON */ }
  const error = new Error(inLanguage(detail) || `${response.status} ${response.statusText}`);
  error.status = response.status;
  return error;
}

function scopeParams(bureau) {
  const p = { years: `${$("f-y1").value}-${$("f-y2").value}`, as_of: $("f-asof").value,
    profile: $("f-profile").value };
  const chosen = bureau === undefined ? $("f-bureau").value : bureau;
  if (chosen) p.bureau = chosen; else p.all = "true";
  if ($("f-kind").value) p.kind = $("f-kind").value;
  if (S.level) p.level = S.level;  // from a document's link: the page has no control for it
  if ($("f-recorded").value) p.recorded_by = $("f-recorded").value;
  return p;
}

// --- Sign in ---------------------------------------------------------------------------------------
async function signIn(token) {
  S.token = token.trim();
  try {
    S.me = await api("/api/me");
  } catch (error) {
    S.token = null;
    sessionStorage.removeItem("banli.token");
    $("signin").hidden = false; $("board").hidden = true;
    offerProviders();
    $("signin-error").textContent = `${t("bad_token")} (${error.message})`;
    return;
  }
  sessionStorage.setItem("banli.token", S.token);
  $("signin").hidden = true; $("board").hidden = false; $("signout").hidden = false;
  $("who").textContent = `${S.me.user} · ${S.me.role}${S.me.bureau ? " · " + S.me.bureau : ""}`;
  const [names, vocabulary] = await Promise.all([api("/api/bureaus"), api("/api/vocabulary")]);
  S.names = names.bureaus;
  // the commands this user may send (the command registry, served by the API)
  S.may = new Set(vocabulary.commands.filter((c) => c.may_send).map((c) => c.type));
  S.commandTitles = Object.fromEntries(vocabulary.commands.map((c) => [c.type, { zh: c.title, en: c.title_en }]));
  RATES = vocabulary.rates.map((rate) => rate.name);
  for (const rate of vocabulary.rates) {
    I18N.zh[rate.name] = rate.zh;
    I18N.en[rate.name] = rate.en.charAt(0).toUpperCase() + rate.en.slice(1);
  }
  const select = $("f-bureau");
  select.innerHTML = "";
  if (S.me.role === "clerk") {
    select.append(new Option(bureauName(S.me.bureau), S.me.bureau));
    select.disabled = true;
  } else {
    select.append(new Option(t("all_bureaus"), ""));
    for (const id of Object.keys(S.names)) select.append(new Option(bureauName(id), id));
    if (S.initialBureau && S.names[S.initialBureau]) select.value = S.initialBureau;
  }
  offerImports();
  await refresh();
  follow();
  openFromLink();
}

// A year-end document's figure links here with its scope and `measure` (or `entries`): the drill-down
// for exactly that number opens at once (README: "Every number traced to its evidence").
function openFromLink() {
  const wanted = S.fromLink;
  S.fromLink = null;
  if (!wanted) return;
  if (wanted.measure) openItems(wanted.measure);
  else if (wanted.entries) openEntries(wanted.entries);
}

async function signOut() {
  // The token is revoked on the server; where an identity provider signed the user in, its
  // session ends too (it sends the browser back to the page, signed out).
  if (S.live) S.live.abort();
  let answer = {};
  try {
    const response = await fetch("/api/signout", { method: "POST", headers: { Authorization: `Bearer ${S.token}` } });
    if (response.ok) answer = await response.json();
  } catch (_) { /* signed out here all the same */ }
  sessionStorage.removeItem("banli.token");
  S.token = null;
  if (answer.end_session) { location.assign(answer.end_session); return; }
  location.hash = ""; location.reload();
}

async function offerProviders() {
  try {
    const providers = await (await fetch("/auth/providers")).json();
    $("signin-idp-row").hidden = !providers.oidc;
    // back to this very view (scope, dates) once signed in
    $("signin-idp").href = `${providers.login}?next=${encodeURIComponent(location.pathname + location.search)}`;
  } catch (_) { /* tokens only */ }
}

function bureauName(id) {
  const n = (S.names || {})[id];
  if (!n) return id || "";
  return (S.lang === "en" ? n.name_en : n.name) || n.name || id;
}

// --- The board ---------------------------------------------------------------------------------------
async function refresh() {
  $("board-error").textContent = "";
  const scope = scopeParams();
  let data;
  try {
    [data] = await Promise.all([api("/api/dashboard", scope), loadAwaiting(scope.years)]);
  } catch (error) {
    $("board-error").textContent = error.message;
    return;
  }
  if (S.data === null || S.data === undefined) addToFeed(data.recent, false);
  S.data = data;
  S.shown = scope;  // what the board shows: its downloads ask for the same
  S.position = data.position;
  render();
  showFreshness();
}

async function showFreshness() {
  // how far the projections are behind the log (both modes' /api/status give `lag`), for the
  // roles that may ask (read:status: operators and oversight)
  $("freshness").hidden = !(S.me.actions || {})["read:status"];
  if ($("freshness").hidden) return;
  let lag = null;
  try { lag = (await api("/api/status")).lag; } catch (error) { lag = null; }
  const el = $("freshness");
  el.dataset.state = lag === null || lag === undefined ? "unknown" : lag > 0 ? "behind" : "fresh";
  el.dataset.lag = lag ?? "";
  el.textContent = el.dataset.state === "unknown" ? t("fresh_unknown")
    : el.dataset.state === "behind" ? t("behind")(lag) : t("fresh");
}

function render() {
  const d = S.data;
  if (!d) return;
  $("clocks").textContent = t("clocks")(d.report.scope.as_of, $("f-recorded").value.replace("T", " "));
  renderKpis(d.report, d.previous);
  renderCharts(d.report, d.previous);
  renderLeague(d.league);
  renderOwed(d.open);
  renderAwaiting();
}

async function loadAwaiting(years) {
  if (!S.me || S.me.role === "clerk" || S.me.role === "importer") { S.awaiting = null; return; }
  try {
    S.awaiting = await api("/api/proposals/awaiting-assignment", { years });
  } catch (error) {
    S.awaiting = { items: [], error: error.message };
  }
}

function renderAwaiting() {
  const card = $("awaiting-card");
  card.hidden = !S.awaiting;
  if (!S.awaiting) return;
  $("n-awaiting").textContent = S.awaiting.items.length;
  const head = `<tr><th>${t("number")}</th><th>${t("item_title")}</th><th>${t("submitted_on")}</th><th></th></tr>`;
  const body = S.awaiting.items.map((i) => `<tr class="clickable" data-assign="${esc(i.proposal_id)}">`
    + `<td>${esc(i.number)}</td><td class="t">${esc(i.title)}</td><td>${esc(i.submitted_on)}</td>`
    + `<td>${i.assigned_before ? `<span class="tag no">${t("bounced")}</span>` : ""}</td></tr>`).join("");
  $("awaiting").innerHTML = head + (body || `<tr><td colspan="4">${t("no_items")}</td></tr>`);
}

async function openAssign(proposal) {
  S.history = [];
  S.lastItems = null;
  openDrawer(t("assign_title")(proposal));
  const item = ((S.awaiting || {}).items || []).find((i) => i.proposal_id === proposal) || {};
  let found;
  try {
    found = await api(`/api/proposals/${encodeURIComponent(proposal)}/suggestions`, { limit: 5 });
  } catch (error) {
    $("drawer-body").innerHTML = `<p class="error">${esc(error.message)}</p>`;
    return;
  }
  const pctScore = (v) => `${Math.round(v * 100)}%`;
  const list = (rows) => rows.map((r) => `<li data-bureau="${esc(r.bureau)}">${esc(bureauName(r.bureau))}`
    + ` <span class="tag">${t("score")} ${pctScore(r.score)}</span> <span class="tag">${t("support")} ${r.support}</span></li>`).join("");
  const similar = found.similar.map((p) => `<tr class="clickable" data-proposal="${esc(p.proposal_id)}"><td>${p.year}</td>`
    + `<td class="t">${esc(p.title)}</td><td>${esc(p.leads.map(bureauName).join("、"))}</td><td>${pctScore(p.score)}</td></tr>`).join("");
  let form = "";
  if (S.me.commands && S.may.has(item.assigned_before ? "reassign" : "assign")) {
    const options = (chosen) => Object.keys(S.names).map((id) => `<option value="${esc(id)}"${chosen.includes(id) ? " selected" : ""}>${esc(bureauName(id))}</option>`).join("");
    const lead = found.lead.length ? [found.lead[0].bureau] : [];
    const co = found.co.slice(0, 2).map((r) => r.bureau).filter((b) => !lead.includes(b));
    form = `<form id="assign-form" class="assign"><label>${t("lead_bureau")}<select id="assign-lead">${options(lead)}</select></label>
      <label>${t("co_bureaus")}<select id="assign-co" multiple size="6">${options(co)}</select></label>
      <button type="submit" class="primary">${t("assign_go")}</button> <span id="assign-result"></span></form>`;
  }
  $("drawer-body").innerHTML = `<p class="clocks">${t("based_on")(found.based_on)} · ${esc(found.method || "")}</p>
    <div class="suggest"><div><h4>${t("suggested_lead")}</h4><ol id="suggest-lead">${list(found.lead)}</ol></div>
    <div><h4>${t("suggested_co")}</h4><ol id="suggest-co">${list(found.co)}</ol></div></div>${form}
    <h4>${t("similar")}</h4><table class="grid" id="similar">${similar}</table>`;
  const formNode = $("assign-form");
  if (formNode) formNode.addEventListener("submit", (event) => { event.preventDefault(); assign(proposal, item.assigned_before); });
}

async function assign(proposal, before) {
  const lead = $("assign-lead").value;
  const co = [...$("assign-co").selectedOptions].map((o) => o.value).filter((b) => b !== lead);
  const command = before ? { type: "reassign", proposal, add_lead: [lead], add_co: co }
    : { type: "assign", proposal, lead: [lead], co };
  const response = await fetch("/api/commands", { method: "POST", body: JSON.stringify(command),
    headers: { Authorization: `Bearer ${S.token}`, "Content-Type": "application/json" } });
  const body = await response.json().catch(() => ({}));
  const out = $("assign-result");
  if (response.status === 201 || response.status === 202) {
    out.className = "ok"; out.textContent = t("assigned_ok");
    await loadAwaiting(shown().years); renderAwaiting();
  } else {
    const detail = body.detail || body;
    out.className = "error";
    out.textContent = (S.lang === "zh" ? detail.message : detail.message_en) || response.statusText;
  }
}

function numberLink(value, measure, bureau, text) {
  const b = bureau === undefined ? "" : ` data-bureau="${esc(bureau)}"`;
  return `<a class="num" href="#" data-measure="${measure}"${b}>${esc(text ?? value)}</a>`;
}

function counts(report) {
  const a = report.assignments;
  const lead = a.npc_suggestion.lead + a.cppcc_proposal.lead, co = a.npc_suggestion.co + a.cppcc_proposal.co;
  return { lead, co, duties: lead + co };
}

function renderKpis(report, previous) {
  const c = counts(report), cp = counts(previous);
  const cards = [
    ["duties", c.duties, cp.duties, `${t("proposals")} ${report.proposals} · ${t("lead")} ${c.lead} · ${t("co")} ${c.co}`],
    ["replied", report.replies, previous.replies, `${t("lead")} ${c.lead}`],
  ].map(([measure, value, last, sub]) => `<div class="kpi" data-kpi="${measure}">
      <div class="label">${t(measure)}</div><div class="value">${numberLink(value, measure)}</div>
      <div class="sub">${esc(sub)}</div><div class="sub">${t("last_year_short")} ${last}</div></div>`);
  for (const rate of RATES) {
    if (rate === "on_time_opinion") cards.push(entriesCard(report, previous));
    const value = report.rates[rate], last = previous.rates[rate];
    const trend = value === null || last === null ? "" : value > last ? "up" : value < last ? "down" : "";
    const shown = pct(report.fractions[rate]);
    cards.push(`<div class="kpi" data-kpi="${rate}"><div class="label">${t(rate)}</div>
      <div class="value">${numberLink(shown, rate, undefined, shown)}</div>
      <div class="sub" data-parts="${rate}">${partsText(rate)}</div>
      <div class="sub">${t("last_year_short")} <span class="${trend}">${pct(previous.fractions[rate])}</span></div></div>`);
  }
  $("kpis").innerHTML = cards.join("");
}

function entriesCard(report, previous) {
  // records entered more than N working days after they happened, beside the on-time rates
  const e = report.entries, last = previous.entries;
  return `<div class="kpi" data-kpi="late_entries"><div class="label">${t("late_entries")}</div>
    <div class="value"><a class="num" href="#" data-entries="late">${e.late}</a></div>
    <div class="sub">${esc(t("entries_sub")(e))}</div>
    <div class="sub">${t("last_year_short")} ${last.late}</div></div>`;
}

function partsText(rate) {
  // numerator / denominator as the report's query counts them (the drill-down lists the same items)
  const fraction = S.data.report.fractions[rate];
  return fraction === undefined ? "" : `${fraction.numerator} / ${fraction.denominator}`;
}

let charts = {};
function chart(id) {
  if (!window.echarts) return null;
  if (!charts[id]) charts[id] = window.echarts.init($(id), null, { renderer: "canvas" });
  return charts[id];
}

function renderCharts(report, previous) {
  const results = chart("chart-results");
  if (results) {
    results.setOption({
      animation: false, tooltip: { trigger: "item" }, legend: { bottom: 0, textStyle: { fontSize: 11 } },
      color: ["#2f9e44", "#1f5fa8", "#f08c00", "#868e96"],
      series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "44%"],
        label: { formatter: "{c}" },
        data: RESULTS.map((r) => ({ name: t(`result.${r}`), value: report.results[r], measure: `result.${r}` })) }],
    }, true);
    results.off("click");
    results.on("click", (p) => openItems(p.data.measure));
  }
  const rates = chart("chart-rates");
  if (rates) {
    const value = (r) => (r === null ? null : Math.round(r * 1000) / 10);
    rates.setOption({
      animation: false, tooltip: { trigger: "axis", formatter: (points) => points.map((p) => `${p.marker}${esc(p.seriesName)} `
        + pct((p.seriesIndex ? previous : report).fractions[RATES[p.dataIndex]])).join("<br>") },
      legend: { bottom: 0, textStyle: { fontSize: 11 } }, grid: { left: 40, right: 10, top: 10, bottom: 60 },
      xAxis: { type: "category", data: RATES.map(t), axisLabel: { interval: 0, rotate: 25, fontSize: 11 } },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      color: ["#a4161a", "#adb5bd"],
      series: [
        { name: t("this_year"), type: "bar", data: RATES.map((r) => value(report.rates[r])) },
        { name: t("last_year"), type: "bar", data: RATES.map((r) => value(previous.rates[r])) },
      ],
    }, true);
    rates.off("click");
    rates.on("click", (p) => { if (p.seriesIndex === 0) openItems(RATES[p.dataIndex]); });
  }
}

function renderLeague(league) {
  const rows = Object.entries(league);
  const lost = (S.data && S.data.misrouting) || {};
  const head = `<tr><th>${t("bureau")}</th><th>${t("lead")}</th><th>${t("co")}</th><th>${t("replied")}</th>`
    + RATES.map((r) => `<th>${t(r)}</th>`).join("") + `<th>${t("misrouted_days")}</th></tr>`;
  rows.sort((a, b) => (b[1].rates.on_time_reply ?? -1) - (a[1].rates.on_time_reply ?? -1) || a[0].localeCompare(b[0]));
  const body = rows.map(([bureau, r]) => {
    const c = counts(r);
    return `<tr data-bureau="${esc(bureau)}"><td>${esc(bureauName(bureau))}</td>`
      + `<td>${numberLink(c.lead, "lead", bureau)}</td><td>${numberLink(c.co, "co", bureau)}</td>`
      + `<td>${numberLink(r.replies, "replied", bureau)}</td>`
      + RATES.map((rate) => `<td>${numberLink(pct(r.fractions[rate]), rate, bureau)}</td>`).join("")
      + `<td>${lost[bureau] ? `${lost[bureau].days_lost}（${lost[bureau].bounced}）` : "0"}</td></tr>`;
  }).join("");
  $("league").innerHTML = head + (body || `<tr><td colspan="12">${t("no_items")}</td></tr>`);
}

function renderOwed(open) {
  $("n-overdue").textContent = `${t("overdue")} ${open.overdue}`;
  $("n-soon").textContent = `${t("due_soon")} ${open.due_soon}`;
  const head = `<tr><th>${t("number")}</th><th>${t("item_title")}</th><th>${t("bureau")}</th><th>${t("owed")}</th>`
    + `<th>${t("due")}</th><th>${t("days_left")}</th></tr>`;
  const body = open.items.map((i) => `<tr class="clickable ${i.overdue ? "overdue" : "soon"}" data-proposal="${esc(i.proposal_id)}" data-bureau="${esc(i.bureau)}">`
    + `<td>${esc(i.proposal_id)}</td><td class="t">${esc(i.title)}</td><td>${esc(bureauName(i.bureau))} · ${t(i.role)}</td>`
    + `<td>${t(i.owed)}</td><td>${esc(i.due)}</td><td>${i.days_left}</td></tr>`).join("");
  $("owed").innerHTML = head + (body || `<tr><td colspan="6">${t("no_items")}</td></tr>`);
}

// --- Drill-down ---------------------------------------------------------------------------------------
function openDrawer(title) {
  $("drawer").hidden = false;
  $("drawer-title").textContent = title;
  $("drawer-body").innerHTML = `<p>${t("loading")}</p>`;
  $("drawer-back").hidden = S.history.length === 0;
  $("drawer-xlsx").hidden = true;
  S.drawerList = null;
  S.sheet = null;
}

function offerDownload(path, params) {
  // the list the drawer shows, as .xlsx (the drawer's "下载 Excel")
  S.drawerList = [path, params];
  $("drawer-xlsx").hidden = false;
}

async function openItems(measure, bureau) {
  S.history = [];
  S.lastItems = [measure, bureau];
  openDrawer(t(measure));
  const params = { ...scopeParams(bureau), measure };
  let data;
  try {
    data = await api("/api/items", params);
  } catch (error) {
    $("drawer-body").innerHTML = `<p class="error">${esc(error.message)}</p>`;
    return;
  }
  offerDownload("/api/items", params);
  const scopeName = bureau ? ` · ${bureauName(bureau)}` : "";
  $("drawer-title").textContent = (data.counted === undefined
    ? t("items_of")(t(measure), data.count) : t("rate_of")(t(measure), data.counted, data.count)) + scopeName;
  $("drawer-title").dataset.count = data.count;
  const rate = data.counted !== undefined;
  const head = `<tr><th>${t("number")}</th><th>${t("item_title")}</th><th>${t("bureau")}</th><th>${t("role")}</th>`
    + `<th>${t("assigned_on")}</th><th>${t("due")}</th><th>${t("first_reply_on")}</th><th>${t("result")}</th>`
    + `<th>${t("disclosure")}</th>${rate ? `<th>${t("counted")}</th>` : ""}</tr>`;
  const body = data.items.map((i) => `<tr class="clickable item" data-proposal="${esc(i.proposal_id)}">`
    + `<td>${esc(i.number)}</td><td class="t">${esc(i.title)}</td><td>${esc(bureauName(i.bureau))}</td><td>${t(i.role)}</td>`
    + `<td>${esc(i.assigned_on)}</td><td>${esc(i.due)}</td><td>${esc(i.first_reply_on || i.first_opinion_on || "—")}</td>`
    + `<td>${i.result ? esc(t("result." + i.result)) : "—"}</td>`
    + `<td>${i.disclosure ? esc(t("disclosure." + i.disclosure)) : "—"}</td>`
    + (rate ? `<td><span class="tag ${i.counted ? "yes" : "no"}">${t(i.counted ? "yes" : "no")}</span></td>` : "")
    + "</tr>").join("");
  $("drawer-body").innerHTML = `<table class="grid" id="items">${head}${body || `<tr><td colspan="10">${t("no_items")}</td></tr>`}</table>`;
}

async function openEntries(which, bureau) {
  S.history = [];
  S.lastItems = null;
  openDrawer(I18N[S.lang].entry_kinds[which] || which);
  const params = { ...scopeParams(bureau), which };
  let data;
  try {
    data = await api("/api/entries", params);
  } catch (error) {
    $("drawer-body").innerHTML = `<p class="error">${esc(error.message)}</p>`;
    return;
  }
  offerDownload("/api/entries", params);
  $("drawer-title").textContent = t("entries_of")(I18N[S.lang].entry_kinds[which] || which, data.count);
  $("drawer-title").dataset.count = data.count;
  const fmt = (iso) => new Date(iso).toLocaleString(S.lang === "zh" ? "zh-CN" : "en-GB", { timeZone: "Asia/Shanghai", hour12: false });
  const head = `<tr><th>${t("number")}</th><th>${t("bureau")}</th><th>${t("entry_type")}</th><th>${t("occurred")}</th>`
    + `<th>${t("recorded")}</th><th>${t("actor")}</th><th>${t("entry")}</th></tr>`;
  const body = data.items.map((r) => `<tr class="clickable entry" data-proposal="${esc(r.proposal_id)}">`
    + `<td>${esc(r.proposal_id)}</td><td>${esc(bureauName(r.bureau))}</td><td>${esc(eventName(r.type))}</td>`
    + `<td>${esc(fmt(r.occurred_at))}</td><td>${esc(fmt(r.recorded_at))}</td><td>${esc(r.actor.user)}</td>`
    + `<td>${esc(I18N[S.lang].entry_kinds[r.entry] || r.entry)}</td></tr>`).join("");
  $("drawer-body").innerHTML = `<table class="grid" id="entries">${head}${body || `<tr><td colspan="7">${t("no_items")}</td></tr>`}</table>`;
}

async function openHistory(proposal) {
  if (!$("drawer").hidden && S.lastItems) S.history.push(S.lastItems);
  openDrawer(t("history_of")(proposal));
  let data;
  try {
    data = await api(`/api/proposals/${encodeURIComponent(proposal)}/history`);
  } catch (error) {
    $("drawer-body").innerHTML = `<p class="error">${esc(error.message)}</p>`;
    return;
  }
  const fmt = (iso) => new Date(iso).toLocaleString(S.lang === "zh" ? "zh-CN" : "en-GB", { timeZone: "Asia/Shanghai", hour12: false });
  let deadlines = null;
  try {
    deadlines = await api(`/api/proposals/${encodeURIComponent(proposal)}/deadlines`);
  } catch (_) { /* the history still shows */ }
  $("drawer-body").innerHTML = superviseForm(proposal, deadlines) + (deadlines ? deadlinesTable(deadlines) : "") + `<h4>${t("history_of")(proposal)}</h4><ol class="timeline" id="history">` + data.events.map((e) => `<li data-type="${esc(e.type)}">
      <strong>${esc(eventName(e.type))}</strong> <span class="tag">#${e.seq}</span>
      <div class="meta">${t("occurred")} ${esc(fmt(e.occurred_at))} · ${t("recorded")} ${esc(fmt(e.recorded_at))}
        · ${t("actor")} ${esc(e.actor.user)} (${esc(e.actor.role)}${e.actor.bureau ? " · " + esc(e.actor.bureau) : ""})
        · ${t("command")} <code>${esc(e.command_id)}</code></div>
      <dl>${Object.entries(e.data).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(typeof v === "object" && v !== null ? JSON.stringify(v) : v)}</dd>`).join("")}</dl></li>`).join("") + "</ol>";
}

function superviseForm(proposal, deadlines) {
  // 督办: the oversight body's own act (overseers' only write), where this server takes commands
  if (!S.me.commands || !S.may.has("supervise")) return "";
  const bureaus = ((deadlines || {}).assignments || []).filter((a) => a.status === "active");
  const options = [`<option value="">${t("whole_proposal")}</option>`, ...bureaus.map((a) => `<option value="${esc(a.bureau)}">${esc(bureauName(a.bureau))}</option>`)];
  return `<form id="supervise-form" class="assign" data-proposal="${esc(proposal)}"><label>${t("supervise_whom")}<select id="supervise-bureau">${options.join("")}</select></label>
    <label>${t("supervise_note")}<input id="supervise-note" maxlength="500"></label>
    <button type="submit" class="primary">${t("supervise")}</button> <span id="supervise-result"></span></form>`;
}

async function supervise(proposal) {
  const command = { type: "supervise", proposal, note: $("supervise-note").value };
  if ($("supervise-bureau").value) command.bureau = $("supervise-bureau").value;
  const response = await fetch("/api/commands", { method: "POST", body: JSON.stringify(command),
    headers: { Authorization: `Bearer ${S.token}`, "Content-Type": "application/json" } });
  const body = await response.json().catch(() => ({}));
  const out = $("supervise-result");
  out.className = response.status === 201 || response.status === 202 ? "ok" : "error";
  out.textContent = out.className === "ok" ? t("supervised_ok")
    : ((S.lang === "zh" ? (body.detail || body).message : (body.detail || body).message_en) || response.statusText);
}

function deadlinesTable(d) {
  const en = S.lang === "en";
  const st = (v) => (v ? (I18N[S.lang].st[v] || v) : "—");
  const workday = (w) => (!w ? "—" : w.due ? `${w.due}（${w.working_days} ${en ? "working days" : "个工作日"}）`
    + (w.provisional ? ` <span class="tag provisional">${t("provisional")}</span>` : "")
    : `— ${esc(en ? w.calendar_gap.message_en : w.calendar_gap.message)}`);
  const rows = d.assignments.map((a) => {
    const done = a.reply || a.opinion || {};
    return `<tr data-bureau="${esc(a.bureau)}"><td>${esc(bureauName(a.bureau))} · ${t(a.role)}</td><td>${esc(a.assigned_on)}</td>`
      + `<td class="t">${esc(en ? a.rule.text_en : a.rule.text)}（${esc(a.rule.due)}）</td>`
      + `<td>${a.extensions.map((x) => `${esc(x.on)} → ${esc(x.reply_due)}`).join("<br>") || "—"}</td>`
      + `<td><strong>${esc(a.due)}</strong></td><td>${st(done.status)}</td><td>${workday(a.return_window)}</td>`
      + `<td>${a.disclosure ? `${workday(a.disclosure)} ${st(a.disclosure.status)}` : "—"}</td></tr>`;
  }).join("");
  return `<h4>${t("deadlines")} <span class="tag">${t("calendar")}: ${esc(d.calendar.name)}</span></h4>
    <div class="scroll"><table class="grid" id="deadlines"><tr><th>${t("bureau")}</th><th>${t("assigned_on")}</th><th>${t("rule")}</th>
    <th>${t("extensions")}</th><th>${t("due")}</th><th>${t("status")}</th><th>${t("return_window")}</th><th>${t("publish_due")}</th></tr>${rows}</table></div>`;
}

// --- Live -------------------------------------------------------------------------------------------------
// fetch() rather than EventSource: the token goes in the Authorization header, never in a URL.
async function follow() {
  if (S.live) S.live.abort();
  const controller = new AbortController();
  S.live = controller;
  let wait = 500;
  while (!controller.signal.aborted) {
    try {
      const response = await fetch("/api/live", { headers: { Authorization: `Bearer ${S.token}`,
        Accept: "text/event-stream" }, signal: controller.signal });
      if (response.status === 401) { controller.abort(); break; }  // the token no longer holds
      if (!response.ok) throw new Error(response.statusText);
      setLive("on");
      wait = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          onMessage(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch (error) {
      if (controller.signal.aborted) { setLive("off"); return; }
    }
    setLive("off");
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 10000);
  }
}

function onMessage(frame) {
  let type = "message", data = "";
  for (const line of frame.split("\n")) {
    if (line.startsWith("event:")) type = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  if (!data) return;
  const message = JSON.parse(data);
  // the server ends the stream: the token expired or was revoked (no use trying again), or it stops
  if (type === "end" && message.code === "bad_token" && S.live) S.live.abort();
  if (type === "hello") {
    if (S.position !== undefined && message.position > S.position) scheduleRefresh();
    return;
  }
  if (type !== "events") return;
  if (message.events.length) {
    addToFeed(message.events);
    scheduleRefresh();
  }
}

function feedLine(e) {
  const when = new Date(e.occurred_at).toLocaleString(S.lang === "zh" ? "zh-CN" : "en-GB", { timeZone: "Asia/Shanghai", hour12: false });
  return `<time>${esc(when)}</time><strong>${esc(eventName(e.type))}</strong> `
    + `<a class="num" href="#" data-proposal="${esc(e.proposal_id)}">${esc(e.proposal_id)}</a>`
    + ` · ${esc(e.actor.user)}${e.bureau ? " · " + esc(bureauName(e.bureau)) : ""}`;
}

function addToFeed(events, fresh = true) {
  const feed = $("feed");
  for (const e of events) {
    if (feed.querySelector(`li[data-position="${e.position}"]`)) continue;
    const li = document.createElement("li");
    if (fresh) li.className = "new";
    li.dataset.position = e.position;
    li.dataset.type = e.type;
    li.dataset.proposal = e.proposal_id;
    li.event = e;
    li.innerHTML = feedLine(e);
    feed.prepend(li);
    setTimeout(() => li.classList.remove("new"), 3000);
  }
  while (feed.children.length > 100) feed.lastChild.remove();
  if (!fresh) return;
  setLive("flash");
  setTimeout(() => setLive("on"), 600);
}

function scheduleRefresh() {
  clearTimeout(S.refreshTimer);
  S.refreshTimer = setTimeout(refresh, 150);
}

function setLive(state) {
  $("live").dataset.state = state;
  $("live-text").textContent = t(state === "off" ? "live_off" : "live_on");
}

// --- Wiring ------------------------------------------------------------------------------------------------
function applyLanguage() {
  document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  $("lang").textContent = S.lang === "zh" ? "English" : "中文";
  document.title = `${S.lang === "zh" ? "办理" : "Banli"} · ${t("title")}`;
  setLive($("live").dataset.state === "off" ? "off" : "on");
  if (S.names) for (const option of $("f-bureau").options) option.textContent = option.value ? bureauName(option.value) : t("all_bureaus");
  for (const li of $("feed").children) if (li.event) li.innerHTML = feedLine(li.event);
  render();
  if (S.me) showReplyBureau();
  if (S.sheet) renderSheet();
}

function defaults() {
  const params = new URLSearchParams(location.search);
  const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  const asOf = params.get("as_of") || today;
  const years = (params.get("years") || asOf.slice(0, 4)).split("-");
  $("f-asof").value = asOf;
  $("f-y1").value = years[0]; $("f-y2").value = years[1] || years[0];
  if (params.get("recorded_by")) $("f-recorded").value = params.get("recorded_by");
  if (params.get("kind")) $("f-kind").value = params.get("kind");
  if (params.get("profile")) $("f-profile").value = params.get("profile");
  S.initialBureau = params.get("bureau");
  S.level = params.get("level");
  if (params.get("measure") || params.get("entries")) {
    S.fromLink = { measure: params.get("measure"), entries: params.get("entries") };
  }
}

document.addEventListener("DOMContentLoaded", () => {
  defaults();
  applyLanguage();
  $("lang").addEventListener("click", () => {
    S.lang = S.lang === "zh" ? "en" : "zh";
    localStorage.setItem("banli.lang", S.lang);
    applyLanguage();
  });
  $("signout").addEventListener("click", signOut);
  $("signin-go").addEventListener("click", () => signIn($("token").value));
  $("controls").addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
  document.body.addEventListener("submit", (event) => {
    if (event.target.id !== "supervise-form") return;
    event.preventDefault();
    supervise(event.target.dataset.proposal);
  });
  for (const which of ["assignments", "replies"]) {
    $(`import-${which}`).addEventListener("submit", (event) => { event.preventDefault(); uploadSheet(which); });
  }
  $("f-bureau").addEventListener("change", () => { if (S.me) showReplyBureau(); });
  $("drawer-close").addEventListener("click", () => { $("drawer").hidden = true; S.history = []; });
  $("drawer-back").addEventListener("click", () => { const last = S.history.pop(); if (last) openItems(...last); });
  document.body.addEventListener("click", (event) => {
    const list = event.target.closest("[data-xlsx]");
    if (list) { downloadList(list.dataset.xlsx); return; }
    const link = event.target.closest("[data-measure], [data-proposal], [data-assign], [data-entries]");
    if (!link || link.closest("#assign-form") || link.closest("#supervise-form")) return;
    event.preventDefault();
    if (link.dataset.assign) openAssign(link.dataset.assign);
    else if (link.dataset.entries) openEntries(link.dataset.entries, link.dataset.bureau || undefined);
    else if (link.dataset.measure) openItems(link.dataset.measure, link.dataset.bureau || undefined);
    else openHistory(link.dataset.proposal);
  });
  for (const link of document.querySelectorAll(".downloads a")) {
    link.addEventListener("click", (event) => { event.preventDefault(); downloadDocument(link.dataset.format); });
  }
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) history.replaceState(null, "", location.pathname + location.search);
  const token = fromHash || sessionStorage.getItem("banli.token");
  if (token) signIn(token);
  else { $("signin").hidden = false; offerProviders(); }
});

// --- Downloads ----------------------------------------------------------------------------------------------
// Every list the page shows downloads as .xlsx from its own route (format=xlsx), with the scope and
// clocks shown on screen and in the page's language; the year-end document likewise. fetch and a blob,
// not a link: the token is a bearer header, never in a URL or a cookie.
const shown = () => S.shown || scopeParams();
const LISTS = {
  owed: () => ["/api/assignments", { urgent: "true", ...(shown().bureau ? { bureau: shown().bureau } : {}) }],
  league: () => ["/api/league", shown()],
  awaiting: () => ["/api/proposals/awaiting-assignment", { years: shown().years }],
  drawer: () => S.drawerList,
};

async function downloadList(which) {
  const [path, params] = LISTS[which]();
  await save(path, { ...params, format: "xlsx", lang: S.lang }, "banli.xlsx");
}

async function downloadDocument(format) {
  // the document (or beside it: its attachment, its evidence) of what the board shows, with the
  // 发文字号, the term's first year (届) and the date typed in beside the links
  const p = shown();
  const years = p.years.split("-");
  const params = { format, year: years[1] || years[0], term_start: $("d-term").value || years[0],
    as_of: p.as_of, profile: p.profile, lang: S.lang };
  if (p.bureau) params.bureau = p.bureau; else params.all = "true";
  for (const key of ["kind", "level", "recorded_by"]) if (p[key]) params[key] = p[key];
  if ($("d-number").value.trim()) params.doc_number = $("d-number").value.trim();
  if ($("d-date").value) params.doc_date = $("d-date").value;
  await save("/api/report/document", params, `banli-report.${format === "evidence" ? "xlsx" : format}`);
}

async function save(path, params, fallbackName) {
  $("board-error").textContent = "";
  let response;
  try {
    response = await fetch(`${path}?${new URLSearchParams(params)}`, { headers: { Authorization: `Bearer ${S.token}` } });
    if (!response.ok) throw await failure(response);
  } catch (error) {
    $("board-error").textContent = error.message;
    return;
  }
  const blob = await response.blob();
  const name = /filename\*=UTF-8''([^;]+)/.exec(response.headers.get("Content-Disposition") || "");
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name ? decodeURIComponent(name[1]) : fallbackName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// --- Spreadsheets in: upload, preview, commit ------------------------------------------------------------
// Nothing is written by an upload: the server answers what each row would send (or why not) and keeps
// it for its uploader, who commits exactly that. Who is offered which import is the permission table's
// (GET /api/me: actions `import` and `import:replies`), where this server takes commands.
const STATUS_TAG = { new: "yes", unchanged: "", differs: "provisional", refused: "no",
  imported: "yes", already: "", pending: "provisional" };

function offerImports() {
  const may = S.me.commands ? S.me.actions : {};
  $("import-assignments").hidden = !may.import;
  $("import-replies").hidden = !may["import:replies"];
  $("imports").hidden = !may.import && !may["import:replies"];
  // kind and year: what the sheet says (a column, else its title), unless chosen here
  showReplyBureau();
}

function replyBureau() {
  // a clerk's own bureau's replies; an importer's or an admin's: the bureau chosen above
  return S.me.actions["import:replies"] === "own" ? S.me.bureau : $("f-bureau").value;
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
  const params = { ...($("i-kind").value ? { kind: $("i-kind").value } : {}),
    ...($("i-year").value ? { year: $("i-year").value } : {}) };
  if (which === "assignments" && $("i-assigned-on").value) params.assigned_on = $("i-assigned-on").value;
  if (which === "replies") params.bureau = replyBureau();
  const done = working($(`import-${which}`).querySelector("button"), $("import-status"), t("uploading")(file.name));
  let answer;
  try {
    answer = await api(`/api/sheets/${which}`, params, { method: "POST", body: file,
      headers: { "Content-Type": "application/octet-stream" } });
  } catch (error) {
    done(error.message);
    showReplyBureau();
    return;
  }
  done();
  showReplyBureau();
  S.history = [];
  openDrawer("");
  S.sheet = { answer, file: file.name, committed: null, status: "" };
  renderSheet();
}

function renderSheet() {
  const { answer, file, committed } = S.sheet;
  const preview = answer.preview, c = preview.counts;
  const what = t(answer.kind === "assignments" ? "import_assignments" : "import_replies");
  $("drawer-title").textContent = t("preview_of")(what, file, committed) + (answer.bureau ? ` · ${bureauName(answer.bureau)}` : "");
  const counts = `<span class="tag">${t("rows_total")(c.rows)}</span>`
    + ["new", "unchanged", "differs", "refused"].map((s) => `<span class="tag ${STATUS_TAG[s]}" data-count="${s}">`
      + `${named("sheet_status", s)} ${c[s]}</span>`).join("") + `<span>${t("will_send")(c.commands)}</span>`;
  const inferred = Object.entries(preview.inferred || {});
  const said = inferred.length ? `<p class="sheet-info" id="sheet-inferred"><strong>${t("inferred_title")}</strong>：`
    + inferred.map(([field, i]) => `<span data-inferred="${field}" data-cell="${esc(i.cell)}">${esc(inLanguage(i))}</span>`).join("；") + "</p>" : "";
  const head = `<tr><th>${t("sheet_row")}</th><th>${t("number")}</th><th>${t("status")}</th><th>${t("sends")}</th></tr>`;
  $("drawer-body").innerHTML = `<p class="sheet-info">${esc(t("sheet_info")(preview))}</p>` + said
    + `<p class="sheet-counts" id="sheet-counts">${counts}</p>`
    + (committed ? committedResult(committed) : commitBar(S.sheet))
    + pager(answer.page, S.sheet.status)
    + `<table class="grid" id="sheet-rows">${head}${preview.rows.map(sheetRow).join("")}</table>`;
  const button = $("sheet-commit");
  if (button) button.addEventListener("click", commitSheet);
  $("sheet-prev").addEventListener("click", () => sheetPage(answer.page.offset - answer.page.limit));
  $("sheet-next").addEventListener("click", () => sheetPage(answer.page.offset + answer.page.limit));
  $("sheet-filter").addEventListener("change", (event) => { S.sheet.status = event.target.value; sheetPage(0); });
}

function pager(page, status) {
  // a preview comes a page at a time (GET /api/sheets/{id}?offset=&limit=&status=): its counts are the whole's
  const shown = page.total ? t("page_rows")(page.offset + 1, Math.min(page.offset + page.limit, page.total), page.total) : t("page_none");
  const options = ["", "new", "unchanged", "differs", "refused"].map((s) => `<option value="${s}"${s === status ? " selected" : ""}>`
    + `${s ? named("sheet_status", s) : t("all_statuses")}</option>`).join("");
  return `<div class="pager" id="sheet-pager"><select id="sheet-filter">${options}</select>`
    + `<button type="button" id="sheet-prev"${page.offset > 0 ? "" : " disabled"}>${t("prev_page")}</button>`
    + `<span id="sheet-page">${shown}</span>`
    + `<button type="button" id="sheet-next"${page.offset + page.limit < page.total ? "" : " disabled"}>${t("next_page")}</button></div>`;
}

async function sheetPage(offset) {
  const sheet = S.sheet;
  const params = { offset: Math.max(0, offset), limit: sheet.answer.page.limit };
  if (sheet.status) params.status = sheet.status;
  let page;
  try {
    page = await api(`/api/sheets/${encodeURIComponent(sheet.answer.preview_id)}`, params);
  } catch (error) {
    $("board-error").textContent = error.message;
    return;
  }
  if (S.sheet !== sheet) return;  // the drawer has moved on
  sheet.answer = { ...sheet.answer, preview: page.preview, page: page.page };
  renderSheet();
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
    const sep = S.lang === "zh" ? "：" : ": ";
    what = t("differs_note") + list(r.differences.map((d) => esc(`${named("field", d.field)}${sep}`
      + `${fieldValue(d.field, d.old)} → ${fieldValue(d.field, d.new)}`)));
  } else {
    what = t("nothing_to_send");
  }
  return `<tr class="${r.status}" data-row="${r.row}" data-status="${r.status}"><td>${rows}</td><td>${esc(r.number ?? "—")}</td>`
    + `<td><span class="tag ${STATUS_TAG[r.status]}">${named("sheet_status", r.status)}</span></td><td class="t">${what}</td></tr>`;
}

function commandText(c) {
  // what a command of the preview will do, in the words of the command registry (GET /api/vocabulary)
  const [colon, comma] = S.lang === "zh" ? ["：", "，"] : [": ", ", "];
  const parts = [];
  if (c.title) parts.push(S.lang === "zh" ? `《${c.title}》` : `"${c.title}"`);
  if (c.filers && c.filers.length) parts.push(`${named("field", "filers")} ${c.filers.map((f) => f.name).join("、")}`);
  if (c.lead) parts.push(`${t("lead")} ${c.lead.map(bureauName).join("、")}`);
  if (c.co && c.co.length) parts.push(`${t("co")} ${c.co.map(bureauName).join("、")}`);
  if (c.method) parts.push(named("contact_method", c.method));
  if (c.result) parts.push(t(`result.${c.result}`));
  if (c.disclosure) parts.push(t(`disclosure.${c.disclosure}`));
  if (c.at) parts.push(c.at.slice(0, 10));
  const title = (S.commandTitles[c.type] || {})[S.lang] || c.type;
  return `${title}${colon}${parts.join(comma)}`;
}

function fieldValue(field, value) {
  if (Array.isArray(value)) {
    return value.map((v) => (field === "leads" || field === "cos" ? bureauName(v) : v && v.name ? v.name : v)).join("、") || "—";
  }
  if (field === "result" && value) return t(`result.${value}`);
  if (field === "disclosure" && value) return t(`disclosure.${value}`);
  return value === null || value === undefined || value === "" ? "—" : String(value);
}

function commitBar(sheet) {
  // waiting (disabled, a spinner) while the commit runs; its error, if it failed
  const commands = sheet.answer.preview.counts.commands;
  const status = sheet.committing ? `<span class="spinner"></span>${esc(t("committing"))}`
    : sheet.error ? `<span class="error">${esc(sheet.error)}</span>` : "";
  return `<div class="commit-bar"><button type="button" class="primary" id="sheet-commit"${commands && !sheet.committing ? "" : " disabled"}>`
    + `${esc(commands ? t("commit")(commands) : t("nothing_to_commit"))}</button>`
    + `<span class="status" id="sheet-commit-status">${status}</span></div>`;
}

function committedResult(done) {
  const c = done.counts;
  const counts = ["imported", "already", "refused", "pending"].map((s) => `<span class="tag ${STATUS_TAG[s]}" data-count="${s}">`
    + `${named("commit_status", s)} ${c[s]}</span>`).join("");
  const rows = done.rows.map((r) => `<tr class="${r.status === "refused" ? "refused" : "differs"}" data-row="${r.row}">`
    + `<td>${r.row}</td><td>${esc(r.number ?? "—")}</td><td>${named("commit_status", r.status)}</td>`
    + `<td class="t">${r.reason ? `<span class="reason">${esc(inLanguage(r.reason))}</span>` : t("pending_note")}</td></tr>`).join("");
  return `<div class="committed" id="committed"><h4>${t("committed_title")}</h4><p class="sheet-counts">${counts}</p>`
    + `<p class="sheet-info">${esc(t("commit_more")(c))}</p>`
    + (rows ? `<h4>${t("commit_rows")}</h4><table class="grid" id="commit-rows"><tr><th>${t("sheet_row")}</th>`
      + `<th>${t("number")}</th><th>${t("status")}</th><th>${t("why")}</th></tr>${rows}</table>` : "") + "</div>";
}

async function commitSheet() {
  const sheet = S.sheet;
  sheet.committing = true;
  sheet.error = null;
  renderSheet();
  try {
    sheet.committed = await api(`/api/sheets/${encodeURIComponent(sheet.answer.preview_id)}/commit`, null, { method: "POST" });
  } catch (error) {
    sheet.error = error.message;
  }
  sheet.committing = false;
  if (S.sheet === sheet) renderSheet();  // unless the drawer has moved on
  if (sheet.committed) refresh();  // the numbers; the live feed refreshes them again as the projections catch up
}
