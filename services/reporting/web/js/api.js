// The API as the page uses it: the bearer token on every request (never in a URL or a cookie),
// errors as ApiError in the page's language, commands sent with a command id, reply letters
// uploaded before the command that names them, downloads through a blob.
import { session } from "./session.js";
import { hintOf, inLanguage, t } from "./words.js";

/** An answer that was not what was asked for: its status and the server's `detail`
 *  ({code, message, message_en, hint?, hint_en?, errors?}); `describe()` says it in the page's
 *  language at the moment it is shown. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail.code || String(status));
    this.status = status;
    this.detail = detail;
    this.code = detail.code;
  }

  describe() {
    return inLanguage(this.detail) || (this.detail.key ? t(this.detail.key) : `${this.status}`);
  }

  hint() {
    return hintOf(this.detail);
  }
}

const offline = () => new ApiError(0, { code: "network", key: "network_error" });

function url(path, params) {
  const query = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined
    && v !== null && v !== "")).toString() : "";
  return query ? `${path}?${query}` : path;
}

/** A fetch with the token; an answer that is not 2xx becomes an ApiError. */
export async function request(path, { params, method = "GET", body, headers = {}, signal } = {}) {
  let response;
  try {
    response = await fetch(url(path, params), { method, body, signal,
      headers: { Authorization: `Bearer ${session.token}`, ...headers } });
  } catch (error) {
    if (signal && signal.aborted) throw error;
    throw offline();
  }
  if (!response.ok) throw await failure(response);
  return response;
}

async function failure(response) {
  let said = {};
  try { said = await response.json(); } catch (_) { /* not JSON */ }
  const detail = said.detail && typeof said.detail === "object" ? said.detail : said;
  return new ApiError(response.status, { code: `http_${response.status}`, key: "server_error", ...detail });
}

export async function getJSON(path, params, signal) {
  return (await request(path, { params, signal })).json();
}

/** A new command id: one per form, kept when the same form is sent again, so that a retry or a
 *  double click is one command (the server answers a repeated id with its first answer). */
export function newCommandId() {
  if (crypto.randomUUID) return `page-${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));  // plain http on a LAN: no randomUUID
  return `page-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Sends a command (POST /api/commands, which takes every command of the vocabulary) and waits
 *  for its decision: {accepted: true, events} or {accepted: false, code, message, hint ...}.
 *  Throws ApiError where nothing was decided (a malformed body, a letter not uploaded, no
 *  answer): the same command may then be sent again under the same id. */
export async function sendCommand(body) {
  let response;
  try {
    response = await fetch("/api/commands", { method: "POST", body: JSON.stringify(body),
      headers: { Authorization: `Bearer ${session.token}`, "Content-Type": "application/json" } });
  } catch (_) {
    throw offline();
  }
  if (response.status === 201) return response.json();
  if (response.status === 202) return pollOutcome(body.command_id);
  if (response.status === 409) {
    const answer = await response.json().catch(() => ({}));
    if (answer.accepted === false) return answer;  // decided: refused, and recorded as such
    throw new ApiError(409, answer.detail || answer);
  }
  throw await failure(response);
}

/** The decision of a command sent earlier (after a 202: the bus is slow to answer). */
async function pollOutcome(commandId, deadlineMs = 120_000) {
  const until = Date.now() + deadlineMs;
  let wait = 300;
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 3000);
    let response;
    try {
      response = await fetch(`/api/commands/${encodeURIComponent(commandId)}`,
        { headers: { Authorization: `Bearer ${session.token}` } });
    } catch (_) { continue; }
    if (response.status === 200) return response.json();
    if (response.status !== 404) throw await failure(response);
  }
  throw new ApiError(202, { code: "pending", key: "still_pending" });
}

/** Uploads a reply letter for `bureau` on `proposal` (the file as the body: the server reads its
 *  type from its bytes) and answers the `letter` a command names. */
export async function uploadLetter(proposal, bureau, file) {
  const response = await request(`/api/proposals/${encodeURIComponent(proposal)}/letters`, {
    method: "POST", params: { bureau, name: file.name }, body: file,
    headers: { "Content-Type": "application/octet-stream" } });
  return response.json();
}

/** Downloads what `path` answers as a file (with the token: a link could not carry it). */
export async function saveDownload(path, params, fallbackName) {
  const response = await request(path, { params });
  const blob = await response.blob();
  const name = /filename\*=UTF-8''([^;]+)/.exec(response.headers.get("Content-Disposition") || "");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name ? decodeURIComponent(name[1]) : fallbackName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
