/**
 * The console composer's helpers (docs/cannedresponses.md, "Console"):
 *   - `/` opens the chat's canned responses (ranked by the agent's own use), filtered as the
 *     agent types; ↑/↓ move, Enter or Tab choose, Escape closes; `/shortcut` + Tab or space
 *     expands at once. Values a response asks for are filled in a small inline form first.
 *     A message that holds an expansion goes with origin "canned".
 *   - "Save as quick reply": a personal response from the composer's text.
 *   - Phrase suggestions: the agent's own frequent sentence openings, accepted with Tab.
 *   - The tone guard: a message with a word off the brand's voice is held back with a warning;
 *     "Send anyway" sends it with `tone_overrides`.
 *   - Hold: Alt+H (or the Hold button) sends the hold reply (origin "hold"); the pane header
 *     says "On hold" while the chat is.
 *
 * Everything from the network (titles, bodies, rendered text, notes) goes into the page as
 * text: textarea values and textContent, never HTML.
 *
 * Hooks the console calls: decorate(chat, pane) when a pane is built (before the console's own
 * listeners, so the menu's keys come first), update(chat) when it is refreshed, and
 * beforeSend(chat, body) -> the message frame's extra fields, or null to hold the message back.
 */
import { formatClock, h } from "./ui.js";

const API = "/api/v1/console/";
const SUGGEST_DEBOUNCE_MS = 300;
const SUGGEST_MIN_CHARS = 3;
const MENU_LIMIT = 50;
const TONE_RULES_REFRESH_MS = 10 * 60 * 1000;
const MAX_OVERRIDES = 10;
const CANNED_DRAFTS_KEY = "helpdesk.console.cannedDrafts";
const HOLD_SHORTCUT = "hold";
// The most specific response with a shortcut wins: the agent's own, the topic's, the shared.
const SCOPE_ORDER = { personal: 0, topic: 1, shared: 2 };
const SCOPE_LABEL = { personal: "Personal", topic: "Topic", shared: "Shared" };
// A sentence ends at . ! ? ; followed by a blank, or at a line break (as the server learns).
const SENTENCE_END = /(?:[.!?;](?=\s)|\n)/g;
// `/` at the start or after a blank, then the shortcut typed so far, right before the caret.
const TOKEN = /(?:^|\s)\/([^\s/]{0,40})$/u;

class ApiError extends Error {
  constructor(status, data) {
    super((data && data.detail) || `The server answered ${status}.`);
    this.status = status;
    this.data = data || {};
  }
}

function csrfToken() {
  const cookie = document.cookie
    .split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

async function api(path, { method = "GET", body, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = csrfToken();
  }
  const response = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    signal,
  });
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Field errors of the API's one error shape, as lines of text. */
function errorLines(error, field) {
  const errors = (error.data && error.data.errors) || {};
  const lines = errors[field];
  return Array.isArray(lines) ? lines.map(String) : [];
}

function firstName(name) {
  return (name || "").trim().split(/\s+/)[0] || "";
}

export function createComposer({ client, toast, canWrite }) {
  /** chat id -> {items, promise}: the chat's responses, fetched once per pane */
  const lists = new Map();
  /** chat id -> per-pane state */
  const states = new Map();
  let toneRules = [];
  let saveDialog = null;
  const cannedDrafts = loadCannedDrafts();

  // --- Data ------------------------------------------------------------------------------------

  function loadCannedDrafts() {
    try {
      return JSON.parse(sessionStorage.getItem(CANNED_DRAFTS_KEY)) || {};
    } catch {
      return {};
    }
  }

  function setExpanded(st, value) {
    st.expanded = value;
    if (value) cannedDrafts[st.chat.id] = true;
    else delete cannedDrafts[st.chat.id];
    try {
      sessionStorage.setItem(CANNED_DRAFTS_KEY, JSON.stringify(cannedDrafts));
    } catch {
      /* storage blocked: the flag lasts for this page */
    }
  }

  function responsesFor(chatId, { fresh = false } = {}) {
    let entry = lists.get(chatId);
    if (entry && !fresh) return entry.promise;
    entry = { items: entry ? entry.items : null, promise: null };
    entry.promise = api(`canned-responses/?chat=${encodeURIComponent(chatId)}`).then(
      (items) => {
        entry.items = Array.isArray(items) ? items : [];
        return entry.items;
      },
      (error) => {
        // Asked again next time.
        if (lists.get(chatId) === entry) lists.delete(chatId);
        throw error;
      },
    );
    lists.set(chatId, entry);
    return entry.promise;
  }

  function refreshAllLists() {
    const ids = Array.from(lists.keys());
    lists.clear();
    for (const id of ids) if (states.has(id)) responsesFor(id).catch(() => {});
  }

  async function loadToneRules() {
    try {
      const rules = await api("tone-rules/");
      const compiled = [];
      for (const rule of Array.isArray(rules) ? rules : []) {
        try {
          compiled.push({ ...rule, regex: new RegExp(rule.pattern, "giu") });
        } catch {
          /* a pattern this browser cannot compile: the server still records what is sent */
        }
      }
      toneRules = compiled;
    } catch {
      /* keep the rules we had; tried again later */
    }
  }
  loadToneRules();
  setInterval(loadToneRules, TONE_RULES_REFRESH_MS);

  /** The tone rules a text breaks, each once, in the order of the text. */
  function toneHits(text) {
    const hits = [];
    for (const rule of toneRules) {
      rule.regex.lastIndex = 0;
      const match = rule.regex.exec(text);
      if (match) hits.push({ rule, index: match.index, text: match[0] });
    }
    return hits.sort((a, b) => a.index - b.index);
  }

  // --- Building the pane's parts -----------------------------------------------------------------

  function decorate(chat, pane) {
    const id = chat.id;
    const input = pane.input;
    const menuId = `canned-menu-${id}`;
    const listbox = h("ul", {
      className: "canned-menu__list",
      id: menuId,
      role: "listbox",
      "aria-label": "Quick replies",
    });
    const empty = h("p", { className: "canned-menu__empty", hidden: true });
    const saveLink = h("button", {
      type: "button",
      className: "canned-menu__save",
      tabindex: "-1",
      text: "Save as quick reply…",
      onmousedown: (event) => event.preventDefault(),
      onclick: () => openSaveDialog(st),
    });
    const menu = h(
      "div",
      {
        className: "canned-menu",
        hidden: true,
        // A click in the menu (an option, its scrollbar) keeps the textarea focused.
        onmousedown: (event) => event.preventDefault(),
      },
      listbox,
      empty,
      h(
        "div",
        { className: "canned-menu__foot" },
        h("span", { text: "↑↓ choose · Enter or Tab insert · Esc close" }),
        saveLink,
      ),
    );
    const live = h("span", { className: "visually-hidden", role: "status" });
    const holdBtn = h("button", {
      type: "button",
      className: "btn btn-sm btn-outline-secondary composer-tools__hold",
      text: "Hold",
      title: "Send the hold reply (Alt+H)",
      "aria-keyshortcuts": "Alt+H",
      onclick: () => sendHold(st),
    });
    const saveBtn = h("button", {
      type: "button",
      className: "btn btn-sm btn-outline-secondary composer-tools__save",
      text: "Save as quick reply",
      onclick: () => openSaveDialog(st),
    });
    const suggestion = h("span", {
      className: "composer-tools__suggestion",
      id: `suggest-${id}`,
      hidden: true,
    });
    const tools = h("div", { className: "composer-tools" }, holdBtn, saveBtn, suggestion, live);
    const warning = h("div", { className: "composer-tone", role: "alert", hidden: true });
    const badge = h("span", { className: "pane__hold", hidden: true });

    const row = pane.composer.querySelector(".hd-composer__row");
    row.before(menu);
    row.after(warning, tools);
    pane.topic.before(badge);
    const hint = pane.el.querySelector(`#hint-${id}`);
    if (hint) hint.textContent += " · / quick replies · Alt+H hold";
    // A textarea may not be a combobox: it keeps its textbox role, controls the listbox and
    // points at the active option (aria-activedescendant); a status line reads the count.
    input.setAttribute("aria-controls", menuId);
    input.setAttribute("aria-autocomplete", "list");
    const describedBy = input.getAttribute("aria-describedby") || "";
    input.setAttribute("aria-describedby", `${describedBy} suggest-${id}`.trim());

    const st = {
      chat,
      pane,
      menu,
      listbox,
      empty,
      live,
      tools,
      holdBtn,
      suggestion,
      warning,
      badge,
      open: false,
      token: null, // {start, end, query} of the `/query` being typed
      dismissed: null, // the start of a token the agent closed with Escape
      shown: [],
      active: -1,
      expanded: Boolean(cannedDrafts[id]),
      override: null, // {text}: "Send anyway" was chosen for exactly this text
      suggest: null, // {start, phrase}
      suggestTimer: null,
      suggestAbort: null,
      asking: null, // the inline form of a response's asks
      programmatic: false,
      busy: false, // a render/ request is on its way
      holding: false, // the hold reply is being prepared
      loading: false, // the menu waits for the chat's list
    };
    states.set(id, st);
    responsesFor(id).catch(() => {});

    // Registered before the console's own keydown: the menu's Enter and Tab come first.
    input.addEventListener("keydown", (event) => onKeydown(st, event));
    input.addEventListener("input", () => onInput(st));
    input.addEventListener("click", () => syncToken(st));
    input.addEventListener("keyup", (event) => {
      if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) syncToken(st);
    });
    input.addEventListener("blur", () => closeMenu(st));
    pane.el.addEventListener("keydown", (event) => {
      if (
        event.altKey &&
        !event.ctrlKey &&
        !event.metaKey &&
        event.code === "KeyH" &&
        !document.querySelector("dialog[open]")
      ) {
        event.preventDefault();
        sendHold(st);
      }
    });
  }

  function update(chat) {
    const st = states.get(chat.id);
    if (!st) return;
    const since = chat.frame.on_hold_since;
    const onHold = Boolean(since) && chat.section !== "ended";
    st.badge.hidden = !onHold;
    st.badge.textContent = onHold ? `On hold since ${formatClock(since)}` : "";
    st.holdBtn.disabled = !canWrite(chat);
    if (!canWrite(chat)) {
      closeMenu(st);
      cancelAsk(st, { focus: false });
      hideSuggestion(st);
    }
  }

  // --- Keys and typing -------------------------------------------------------------------------

  function onKeydown(st, event) {
    if (event.isComposing) return;
    if (st.open) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        event.stopImmediatePropagation();
        move(st, event.key === "ArrowDown" ? 1 : -1);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopImmediatePropagation();
        st.dismissed = st.token ? st.token.start : null;
        closeMenu(st);
        return;
      }
      const choosing =
        ((event.key === "Enter" && !event.shiftKey) || (event.key === "Tab" && !event.shiftKey)) &&
        st.shown.length > 0;
      if (choosing) {
        event.preventDefault();
        event.stopImmediatePropagation();
        choose(st, st.shown[Math.max(0, st.active)]);
        return;
      }
      if (event.key === "Enter" && !event.shiftKey && st.loading) {
        // Not the moment to send "/gr": the list is on its way.
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      if (event.key === " " && st.token) {
        const exact = exactMatch(st, st.token.query);
        if (exact) {
          event.preventDefault();
          event.stopImmediatePropagation();
          choose(st, exact);
        }
        return;
      }
      return;
    }
    if (event.key === "Tab" && !event.shiftKey && !event.altKey && st.suggest) {
      event.preventDefault();
      event.stopImmediatePropagation();
      acceptSuggestion(st);
      return;
    }
    if (event.key === "Escape" && (st.suggest || !st.warning.hidden)) {
      event.preventDefault();
      hideSuggestion(st);
      hideWarning(st);
    }
  }

  function onInput(st) {
    if (st.programmatic) return;
    const input = st.pane.input;
    if (!input.value) setExpanded(st, false);
    if (st.override && st.override.text !== input.value) st.override = null;
    hideWarning(st);
    syncToken(st);
    scheduleSuggestion(st);
  }

  /** Open, filter or close the menu after the text or the caret moved. */
  function syncToken(st) {
    const input = st.pane.input;
    if (input.selectionStart !== input.selectionEnd || !canWrite(st.chat)) {
      closeMenu(st);
      return;
    }
    const caret = input.selectionStart;
    const match = TOKEN.exec(input.value.slice(0, caret));
    if (!match) {
      st.dismissed = null;
      closeMenu(st);
      return;
    }
    const query = match[1];
    const start = caret - query.length - 1;
    if (st.dismissed === start) return;
    st.dismissed = null;
    st.token = { start, end: caret, query };
    openMenu(st);
  }

  // --- The `/` menu ----------------------------------------------------------------------------

  function filtered(items, query) {
    const q = query.toLowerCase();
    if (!q) return items.slice(0, MENU_LIMIT);
    const exact = [];
    const first = [];
    const then = [];
    for (const item of items) {
      if (item.shortcut === q) exact.push(item);
      else if (item.shortcut.startsWith(q)) first.push(item);
      else if (item.title.toLowerCase().includes(q) || item.body.toLowerCase().includes(q))
        then.push(item);
    }
    // `/greet` + Tab inserts /greet even when /greeting is used more.
    return exact.concat(first, then).slice(0, MENU_LIMIT);
  }

  function exactMatch(st, query) {
    const q = query.toLowerCase();
    const entry = lists.get(st.chat.id);
    return q && entry && entry.items ? entry.items.find((item) => item.shortcut === q) : null;
  }

  async function openMenu(st) {
    const chatId = st.chat.id;
    const entry = lists.get(chatId);
    if (!entry || !entry.items) {
      showMenu(st, [], "Loading quick replies…");
      st.loading = true;
      try {
        await responsesFor(chatId);
      } catch {
        if (st.token) showMenu(st, [], "Quick replies could not be loaded. Try again.");
        return;
      } finally {
        st.loading = false;
      }
      if (!st.token) return; // closed meanwhile
    }
    const items = filtered(lists.get(chatId)?.items || [], st.token.query);
    const none = st.token.query
      ? `No quick reply matches /${st.token.query}.`
      : "You have no quick replies yet.";
    showMenu(st, items, items.length ? "" : none);
  }

  function showMenu(st, items, message) {
    const previous = st.shown[st.active];
    st.shown = items;
    st.listbox.replaceChildren(...items.map((item, index) => optionFor(st, item, index)));
    st.listbox.hidden = items.length === 0;
    st.empty.hidden = !message;
    st.empty.textContent = message;
    st.menu.hidden = false;
    st.open = true;
    hideSuggestion(st);
    const keep = previous ? items.indexOf(previous) : -1;
    setActive(st, items.length ? Math.max(0, keep) : -1);
    st.live.textContent = items.length
      ? `${items.length} quick ${items.length === 1 ? "reply" : "replies"}. Up and down to choose, Enter to insert.`
      : message;
  }

  function optionFor(st, item, index) {
    const snippet = item.body.length > 90 ? `${item.body.slice(0, 90)}…` : item.body;
    return h(
      "li",
      {
        className: "canned-menu__option",
        role: "option",
        id: `canned-${st.chat.id}-${index}`,
        "aria-selected": "false",
        dataset: { shortcut: item.shortcut },
        onmousedown: (event) => event.preventDefault(), // keep the textarea focused
        onclick: () => choose(st, item),
      },
      h(
        "span",
        { className: "canned-menu__head" },
        h("span", { className: "canned-menu__shortcut", text: `/${item.shortcut}` }),
        h("span", { className: "canned-menu__title", text: item.title }),
        h("span", {
          className: "canned-menu__scope",
          text: SCOPE_LABEL[item.scope] || item.scope,
        }),
      ),
      h("span", { className: "canned-menu__body", text: snippet }),
    );
  }

  function setActive(st, index) {
    st.active = index;
    const options = st.listbox.children;
    for (let i = 0; i < options.length; i += 1) {
      options[i].setAttribute("aria-selected", String(i === index));
      options[i].classList.toggle("is-active", i === index);
    }
    const input = st.pane.input;
    if (index >= 0 && options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function move(st, step) {
    if (!st.shown.length) return;
    setActive(st, (st.active + step + st.shown.length) % st.shown.length);
  }

  function closeMenu(st) {
    st.token = null;
    if (!st.open && st.menu.hidden) return;
    st.open = false;
    st.shown = [];
    st.active = -1;
    st.menu.hidden = true;
    st.pane.input.removeAttribute("aria-activedescendant");
  }

  /** Expand a response in place of the `/query` token: ask its values first, if any. */
  function choose(st, item) {
    if (!item) return;
    const token = st.token || {
      start: st.pane.input.selectionStart,
      end: st.pane.input.selectionStart,
      query: "",
    };
    closeMenu(st);
    if (item.asks && item.asks.length) {
      askValues(st, item, token);
    } else {
      cancelAsk(st, { focus: false });
      expand(st, item, token, {});
    }
  }

  /** Render and insert; true when done. From the asks' form (`fromAsk`), a refused value is
   * thrown back to be shown next to the fields. */
  async function expand(st, item, token, values, { fromAsk = false } = {}) {
    if (st.busy) return false;
    st.busy = true;
    st.pane.error.hidden = true;
    try {
      const { text } = await api(`canned-responses/${item.id}/render/`, {
        method: "POST",
        body: { chat: st.chat.id, values },
      });
      insertText(st, token, text);
      setExpanded(st, true);
      st.live.textContent = `Inserted /${item.shortcut}.`;
      // Its rank changed: the next `/` shows the server's new order.
      responsesFor(st.chat.id, { fresh: true }).catch(() => {});
      return true;
    } catch (error) {
      if (fromAsk && error instanceof ApiError && error.status === 400) throw error;
      showError(st, `/${item.shortcut} could not be inserted: ${error.message}`);
      return false;
    } finally {
      st.busy = false;
    }
  }

  /** Replace the token (if it is still there) with `text`; else insert at the caret. */
  function insertText(st, token, text) {
    const input = st.pane.input;
    const value = input.value;
    let start = token.start;
    let end = token.end;
    const still = value.slice(start, end) === `/${token.query}` && token.end > token.start;
    if (!still) {
      start = input.selectionStart ?? value.length;
      end = input.selectionEnd ?? start;
    }
    input.value = value.slice(0, start) + text + value.slice(end);
    const caret = start + text.length;
    input.focus();
    input.setSelectionRange(caret, caret);
    changed(st);
  }

  /** Tell the console the text changed (counter, draft, typing) without reopening anything. */
  function changed(st) {
    st.programmatic = true;
    try {
      st.pane.input.dispatchEvent(new Event("input", { bubbles: true }));
    } finally {
      st.programmatic = false;
    }
  }

  function showError(st, text) {
    st.pane.error.textContent = text;
    st.pane.error.hidden = false;
  }

  // --- Values a response asks for ------------------------------------------------------------------

  function askValues(st, item, token) {
    cancelAsk(st, { focus: false });
    const titleId = `ask-title-${st.chat.id}`;
    const error = h("p", { className: "composer-ask__error", role: "alert", hidden: true });
    const fields = item.asks.map((label, index) => {
      const inputId = `ask-${st.chat.id}-${index}`;
      const field = h("input", {
        type: "text",
        id: inputId,
        className: "form-control form-control-sm",
        maxlength: "200",
        autocomplete: "off",
        required: true,
      });
      return {
        label,
        field,
        row: h(
          "div",
          { className: "composer-ask__field" },
          h("label", { for: inputId, text: label }),
          field,
        ),
      };
    });
    const cancel = h("button", {
      type: "button",
      className: "btn btn-sm btn-outline-secondary",
      text: "Cancel",
      onclick: () => cancelAsk(st),
    });
    const form = h(
      "form",
      { className: "composer-ask", "aria-labelledby": titleId, novalidate: true },
      h("p", {
        className: "composer-ask__title",
        id: titleId,
        text: `/${item.shortcut} needs: fill in and press Enter (Esc to cancel)`,
      }),
      ...fields.map((f) => f.row),
      error,
      h(
        "div",
        { className: "composer-ask__actions" },
        cancel,
        h("button", { type: "submit", className: "btn btn-sm btn-primary", text: "Insert" }),
      ),
    );
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        cancelAsk(st);
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = {};
      const blank = [];
      for (const f of fields) {
        const value = f.field.value.trim();
        f.field.removeAttribute("aria-invalid");
        if (!value) {
          blank.push(f);
          f.field.setAttribute("aria-invalid", "true");
        }
        values[f.label] = value;
      }
      if (blank.length) {
        error.textContent = `Fill in ${blank.map((f) => f.label).join(", ")}.`;
        error.hidden = false;
        blank[0].field.focus();
        return;
      }
      try {
        if (await expand(st, item, token, values, { fromAsk: true })) {
          cancelAsk(st, { focus: false });
        } else {
          cancelAsk(st);
        }
      } catch (problem) {
        const lines = errorLines(problem, "values");
        error.textContent = lines.length ? lines.join(" ") : problem.message;
        error.hidden = false;
      }
    });
    st.asking = form;
    st.pane.composer.before(form);
    fields[0].field.focus();
  }

  function cancelAsk(st, { focus = true } = {}) {
    if (!st.asking) return;
    st.asking.remove();
    st.asking = null;
    if (focus) st.pane.input.focus();
  }

  // --- Phrase suggestions ------------------------------------------------------------------------

  /** The sentence being written: from the last sentence end up to the caret (at the end). */
  function currentFragment(input) {
    const caret = input.selectionStart;
    if (caret !== input.selectionEnd || caret !== input.value.length) return null;
    const text = input.value;
    let start = 0;
    for (const match of text.matchAll(SENTENCE_END)) start = match.index + match[0].length;
    while (start < text.length && /\s/.test(text[start])) start += 1;
    return { start, text: text.slice(start) };
  }

  function scheduleSuggestion(st) {
    clearTimeout(st.suggestTimer);
    hideSuggestion(st);
    if (st.open) return;
    const fragment = currentFragment(st.pane.input);
    if (!fragment || fragment.text.trim().length < SUGGEST_MIN_CHARS) return;
    if (fragment.text.length > 200) return;
    st.suggestTimer = setTimeout(() => fetchSuggestion(st, fragment), SUGGEST_DEBOUNCE_MS);
  }

  async function fetchSuggestion(st, fragment) {
    st.suggestAbort?.abort();
    const abort = new AbortController();
    st.suggestAbort = abort;
    let rows;
    try {
      const prefix = encodeURIComponent(fragment.text);
      rows = await api(`phrases/?prefix=${prefix}&limit=1`, { signal: abort.signal });
    } catch {
      return; // aborted, throttled or offline: no suggestion this time
    } finally {
      if (st.suggestAbort === abort) st.suggestAbort = null;
    }
    const now = currentFragment(st.pane.input);
    // Only if the agent is still at the same words, and the phrase adds something.
    if (st.open || !now || now.start !== fragment.start || now.text !== fragment.text) return;
    const phrase = Array.isArray(rows) && rows[0] ? rows[0].phrase : "";
    if (!phrase || phrase.length <= fragment.text.trimEnd().length) return;
    st.suggest = { start: fragment.start, phrase };
    st.suggestion.replaceChildren(
      h("kbd", { text: "Tab" }),
      " to complete: ",
      h("span", { className: "composer-tools__phrase", text: phrase }),
    );
    st.suggestion.hidden = false;
  }

  function hideSuggestion(st) {
    clearTimeout(st.suggestTimer);
    st.suggestAbort?.abort();
    st.suggestAbort = null;
    st.suggest = null;
    st.suggestion.hidden = true;
    st.suggestion.replaceChildren();
  }

  function acceptSuggestion(st) {
    const { start, phrase } = st.suggest;
    const input = st.pane.input;
    hideSuggestion(st);
    input.value = input.value.slice(0, start) + phrase;
    input.setSelectionRange(input.value.length, input.value.length);
    changed(st);
    st.live.textContent = `Completed: ${phrase}`;
  }

  // --- Tone guard and sending -----------------------------------------------------------------------

  function beforeSend(chat, body) {
    const st = states.get(chat.id);
    if (!st) return {};
    const hits = toneHits(body);
    const phrases = Array.from(new Set(hits.map((hit) => hit.rule.phrase))).slice(0, MAX_OVERRIDES);
    if (hits.length && !(st.override && st.override.text === body)) {
      showWarning(st, hits);
      return null;
    }
    const extra = {};
    if (st.expanded) extra.origin = "canned";
    if (phrases.length) extra.tone_overrides = phrases;
    st.override = null;
    setExpanded(st, false);
    hideWarning(st);
    hideSuggestion(st);
    closeMenu(st);
    return extra;
  }

  function showWarning(st, hits) {
    const seen = new Set();
    const items = [];
    for (const hit of hits) {
      if (seen.has(hit.rule.id)) continue;
      seen.add(hit.rule.id);
      items.push(
        h(
          "li",
          {},
          h("strong", { text: `“${hit.text}”` }),
          hit.rule.note ? ` — ${hit.rule.note}` : "",
        ),
      );
    }
    const rephrase = h("button", {
      type: "button",
      className: "btn btn-sm btn-primary",
      text: "Rephrase",
      onclick: () => {
        hideWarning(st);
        st.pane.input.focus();
      },
    });
    const anyway = h("button", {
      type: "button",
      className: "btn btn-sm btn-outline-danger",
      text: "Send anyway",
      onclick: () => {
        const text = st.pane.input.value;
        st.override = { text };
        // Through the console's own submit: the same checks, draft and counter handling.
        st.pane.composer.requestSubmit();
        st.pane.input.focus();
      },
    });
    st.warning.replaceChildren(
      h("p", {
        className: "composer-tone__title",
        text: "This reply has words that are off the brand's voice:",
      }),
      h("ul", { className: "composer-tone__list" }, ...items),
      h("div", { className: "composer-tone__actions" }, rephrase, anyway),
    );
    st.warning.hidden = false;
    rephrase.focus();
  }

  function hideWarning(st) {
    if (st.warning.hidden) return;
    st.warning.hidden = true;
    st.warning.replaceChildren();
  }

  // --- Hold -------------------------------------------------------------------------------------------

  async function holdText(st) {
    const customer = firstName(st.chat.frame.customer.name);
    const fallback = customer
      ? `Thanks for your patience, ${customer}. Let me check that for you; I'll be right back.`
      : "Thanks for your patience. Let me check that for you; I'll be right back.";
    let items;
    try {
      items = await responsesFor(st.chat.id);
    } catch {
      return fallback;
    }
    const hold = items
      .filter((item) => item.shortcut === HOLD_SHORTCUT && !(item.asks && item.asks.length))
      .sort((a, b) => (SCOPE_ORDER[a.scope] ?? 9) - (SCOPE_ORDER[b.scope] ?? 9))[0];
    if (!hold) return fallback;
    try {
      const { text } = await api(`canned-responses/${hold.id}/render/`, {
        method: "POST",
        body: { chat: st.chat.id, values: {} },
      });
      return text && text.trim() ? text : fallback;
    } catch {
      return fallback;
    }
  }

  async function sendHold(st) {
    if (!canWrite(st.chat) || st.holding) return;
    st.holding = true;
    st.holdBtn.disabled = true;
    try {
      const text = await holdText(st);
      if (!canWrite(st.chat)) return;
      client.sendMessage(st.chat.id, text, { origin: "hold" });
      st.pane.list.scrollToBottom();
      st.live.textContent = "Hold reply sent.";
    } finally {
      st.holding = false;
      st.holdBtn.disabled = !canWrite(st.chat);
    }
  }

  // --- Save as quick reply ------------------------------------------------------------------------

  function buildSaveDialog() {
    const field = (name, label, control, help) => {
      const error = h("p", { className: "composer-save__error", id: `save-${name}-error` });
      error.hidden = true;
      control.id = `save-${name}`;
      control.name = name;
      control.setAttribute(
        "aria-describedby",
        [help ? `save-${name}-help` : "", `save-${name}-error`].filter(Boolean).join(" "),
      );
      return {
        control,
        error,
        node: h(
          "div",
          { className: "composer-save__field" },
          h("label", { className: "form-label", for: `save-${name}`, text: label }),
          control,
          help
            ? h("p", { className: "composer-save__help", id: `save-${name}-help`, text: help })
            : null,
          error,
        ),
      };
    };
    const title = field(
      "title",
      "Title",
      h("input", { type: "text", className: "form-control", maxlength: "120", required: true }),
    );
    const shortcut = field(
      "shortcut",
      "Shortcut",
      h("input", {
        type: "text",
        className: "form-control",
        maxlength: "33",
        autocomplete: "off",
        spellcheck: "false",
        required: true,
      }),
      "Typed after / in the composer: lowercase letters, digits, - and _ (e.g. refund-time).",
    );
    const body = field(
      "body",
      "Text",
      h("textarea", { className: "form-control", rows: "4", maxlength: "4000", required: true }),
      "Placeholders such as {customer.first_name|there} are filled in when you insert it.",
    );
    const general = h("p", { className: "composer-save__error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", className: "btn btn-primary", text: "Save" });
    const cancel = h("button", {
      type: "button",
      className: "btn btn-outline-secondary",
      text: "Cancel",
      onclick: () => dialog.close(),
    });
    const form = h(
      "form",
      { novalidate: true },
      h("h2", { className: "h5 mb-2", id: "save-title-heading", text: "Save as quick reply" }),
      h("p", {
        className: "composer-save__sub",
        text: "A personal quick reply: only you see it.",
      }),
      title.node,
      shortcut.node,
      body.node,
      general,
      h("div", { className: "d-flex gap-2 justify-content-end" }, cancel, submit),
    );
    const dialog = h(
      "dialog",
      { className: "hd-dialog composer-save", "aria-labelledby": "save-title-heading" },
      form,
    );
    const parts = { dialog, form, title, shortcut, body, general, submit, st: null };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitSave(parts);
    });
    dialog.addEventListener("close", () => {
      const st = parts.st;
      parts.st = null;
      if (st && canWrite(st.chat)) st.pane.input.focus();
    });
    document.body.append(dialog);
    return parts;
  }

  function openSaveDialog(st) {
    closeMenu(st);
    saveDialog = saveDialog || buildSaveDialog();
    const d = saveDialog;
    d.st = st;
    for (const f of [d.title, d.shortcut, d.body]) {
      f.error.hidden = true;
      f.error.textContent = "";
      f.control.removeAttribute("aria-invalid");
    }
    d.general.hidden = true;
    d.title.control.value = "";
    d.shortcut.control.value = "";
    // The composer's text, without a `/query` the agent was typing to open the menu.
    d.body.control.value = st.pane.input.value.replace(/(^|\s)\/[^\s/]*$/u, "$1").trim();
    d.submit.disabled = false;
    d.dialog.showModal();
    d.title.control.focus();
  }

  async function submitSave(d) {
    const values = {
      title: d.title.control.value.trim(),
      shortcut: d.shortcut.control.value.trim(),
      body: d.body.control.value,
    };
    let problems = false;
    for (const [name, message] of [
      ["title", "Give it a title."],
      ["shortcut", "Choose a shortcut."],
      ["body", "Write the text."],
    ]) {
      const f = d[name];
      const blank = !values[name].trim();
      f.error.hidden = !blank;
      f.error.textContent = blank ? message : "";
      if (blank) f.control.setAttribute("aria-invalid", "true");
      else f.control.removeAttribute("aria-invalid");
      problems = problems || blank;
    }
    d.general.hidden = true;
    if (problems) {
      [d.title, d.shortcut, d.body].find((f) => !f.error.hidden).control.focus();
      return;
    }
    d.submit.disabled = true;
    try {
      const created = await api("canned-responses/", {
        method: "POST",
        body: { ...values, scope: "personal" },
      });
      d.dialog.close();
      refreshAllLists();
      toast(`Saved: /${created.shortcut} is one of your quick replies.`, "info");
    } catch (error) {
      let focused = false;
      for (const name of ["title", "shortcut", "body"]) {
        const lines = errorLines(error, name);
        const f = d[name];
        f.error.hidden = !lines.length;
        f.error.textContent = lines.join(" ");
        if (lines.length) {
          f.control.setAttribute("aria-invalid", "true");
          if (!focused) f.control.focus();
          focused = true;
        }
      }
      const other = errorLines(error, "non_field_errors").concat(errorLines(error, "scope"));
      if (!focused || other.length) {
        d.general.textContent = other.length ? other.join(" ") : error.message;
        d.general.hidden = false;
      }
    } finally {
      d.submit.disabled = false;
    }
  }

  return { decorate, update, beforeSend };
}
