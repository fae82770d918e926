// The signed-in session, shared by every module: who signed in (GET /api/me), the vocabulary
// (GET /api/vocabulary: the commands as forms, the events and choices with their words), the
// bureaus' names, and the page's language. Set once at sign-in by main.js; nothing else writes it.

export const session = {
  token: null,
  me: null,            // {user, role, bureau, filer?, commands, actions}
  vocabulary: null,    // {today, earliest, commands, events, envelope, choices, rates, measures, lists}
  names: {},           // bureau id -> {name, name_en}
  lang: localStorage.getItem("banli.lang") === "en" ? "en" : "zh",
};

/** Whether the permission table lets the signed-in user take `action` (GET /api/me). */
export const may = (action) => Boolean(session.me && session.me.actions && session.me.actions[action]);

/** The commands the signed-in user may send, as the vocabulary describes them; only where this
 *  server takes commands (`commands` of GET /api/me). */
export function sendable() {
  if (!session.me || !session.me.commands || !session.vocabulary) return [];
  return session.vocabulary.commands.filter((c) => c.may_send);
}
