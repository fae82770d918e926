// The live feed (GET /api/live, server-sent events) read with fetch, not EventSource: the token
// goes in the Authorization header, never in a URL. Each batch of events goes to every
// listener; the stream ends with the token (the server sends `end`: no use trying again), and a
// server that stops is followed again when it is back.
import { session } from "./session.js";

const listeners = new Set();
let controller = null;
let onState = () => {};

/** Calls `fn({type, ...message})` with each `events` and `hello` message; answers a function
 *  that stops listening. */
export function listen(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function stop() {
  if (controller) controller.abort();
  controller = null;
}

/** Follows the feed until stopped or until the token no longer holds. `state` is told "on",
 *  "off" and "flash" (a batch arrived). */
export async function follow(state) {
  stop();
  onState = state;
  const mine = new AbortController();
  controller = mine;
  let wait = 500;
  while (!mine.signal.aborted) {
    try {
      const response = await fetch("/api/live", { signal: mine.signal,
        headers: { Authorization: `Bearer ${session.token}`, Accept: "text/event-stream" } });
      if (response.status === 401) { mine.abort(); break; }  // the token no longer holds
      if (!response.ok) throw new Error(response.statusText);
      onState("on");
      wait = 500;
      await read(response, mine);
    } catch (_) {
      if (mine.signal.aborted) break;
    }
    onState("off");
    if (mine.signal.aborted) break;
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 10_000);
  }
  onState("off");
}

async function read(response, mine) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      dispatch(buffer.slice(0, cut), mine);
      buffer = buffer.slice(cut + 2);
    }
  }
}

function dispatch(frame, mine) {
  let type = "message", text = "";
  for (const line of frame.split("\n")) {
    if (line.startsWith("event:")) type = line.slice(6).trim();
    else if (line.startsWith("data:")) text += line.slice(5).trim();
  }
  if (!text) return;
  const message = JSON.parse(text);
  if (type === "end" && message.code === "bad_token") { mine.abort(); return; }
  if (type !== "events" && type !== "hello") return;
  if (type === "events" && message.events.length) {
    onState("flash");
    setTimeout(() => { if (!mine.signal.aborted) onState("on"); }, 600);
  }
  for (const fn of listeners) fn({ type, ...message });
}
