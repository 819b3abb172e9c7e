/**
 * The console's side panel: a right-hand column beside each chat pane (`.pane__aside`), opened
 * on a summary of the chat (docs/protocol.md, "Summary and internal notes"):
 *   - topic, customer, how long they wait now (since the last answer, coloured like the sidebar)
 *     and waited in total, their first question, their last message, how many of their
 *     messages are unanswered, the share of canned replies, whether the chat is on hold;
 *   - transfers with their notes; internal notes (staff only) with a form to add one;
 *   - the customer's history: earlier chats and tickets with the same email, with links.
 *
 * The panel asks the server for a `summary` when its pane is selected, again (at most every
 * 2 s) after a new message or a change of the chat, and every 30 s while it is in view; the
 * waiting times tick locally in between. Notes arrive as `note` frames, sent to staff consoles
 * only: the customer's page never loads this module.
 *
 * The column belongs to this module; other modules may add to it:
 *   sidepanel.onPane((chat, pane) => sidepanel.addSection(pane, element))
 * runs for every pane (those built already, and each new one). Elements go in after the
 * summary; give them a heading. The conversation column itself is `pane.main`.
 *
 * Everything that comes from the network is put into the page as text, never as HTML.
 *
 * Hooks the console calls: decorate(chat, pane) when a pane is built, show(chat) when a pane is
 * selected, update(chat) when a pane is refreshed, onFrame(frame) -> handled?,
 * onError(frame) -> handled?.
 */
import { formatClock, formatDuration, h } from "./ui.js";

const NOTE_MAX = 2000;
const REFRESH_AFTER_EVENT_MS = 2000;
const REFRESH_EVERY_MS = 30000;
const ANSWER_TIMEOUT_MS = 10000;
const CLAMP_CHARS = 180;
const CLAMP_LINES = 3;
const WIDE = "(min-width: 1200px)";
const OPEN_KEY = "helpdesk.console.aside";
// Errors that answer a note frame (the server names the chat in each).
const NOTE_ERRORS = new Set([
  "note_empty",
  "note_too_long",
  "body_invalid",
  "forbidden",
  "chat_closed",
  "chat_not_found",
  "invalid_frame",
]);

// Errors a summary frame can get (a take or close of the same chat may fail meanwhile: those
// stay the console's).
const SUMMARY_ERRORS = new Set(["chat_not_found", "internal_error"]);

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function formatWhen(iso) {
  const date = iso ? new Date(iso) : null;
  if (!date || Number.isNaN(date.getTime())) return "";
  const today = new Date().toDateString() === date.toDateString();
  return today ? formatClock(iso) : dateTime.format(date);
}

/** History is about other days: always with the date. */
function formatDate(iso) {
  const date = iso ? new Date(iso) : null;
  return date && !Number.isNaN(date.getTime()) ? dateTime.format(date) : "";
}

function capitalise(text) {
  const s = String(text || "");
  return s ? s[0].toUpperCase() + s.slice(1).replace(/_/g, " ") : "";
}

function timeEl(iso, text) {
  return h("time", { dateTime: iso || null, text: text ?? formatWhen(iso) });
}

export function createSidepanel({ client, chats, me, serverNow, canWrite, waitLevel }) {
  /** chat id -> panel state: {summary, receivedAt (server clock), requestedAt, inflight,
   * timer, error, liveNotes: Map(id -> note frame), pendingNote, noteTimer, expanded, frameKey} */
  const states = new Map();
  const paneCallbacks = [];
  const wide = window.matchMedia(WIDE);
  let openWide = readOpenWide();
  let openNarrow = false;
  let shownId = null;

  function readOpenWide() {
    try {
      return localStorage.getItem(OPEN_KEY) !== "closed";
    } catch {
      return true;
    }
  }

  function stateOf(chatId) {
    let st = states.get(chatId);
    if (!st) {
      st = {
        summary: null,
        receivedAt: 0,
        requestedAt: 0,
        inflight: false,
        timer: null,
        error: "",
        liveNotes: new Map(),
        pendingNote: null,
        noteTimer: null,
        expanded: new Set(),
        frameKey: "",
        // The highest message seq known when the panel was built, then seen since.
        seenSeq: chats.get(chatId)?.knownSeq || 0,
      };
      states.set(chatId, st);
    }
    return st;
  }

  const isOpen = () => (wide.matches ? openWide : openNarrow);

  /** The panel of the selected pane is on screen: worth keeping fresh. */
  function inView(chatId) {
    const chat = chats.get(chatId);
    return Boolean(
      chat &&
        chat.pane &&
        shownId === chatId &&
        !chat.pane.el.hidden &&
        isOpen() &&
        document.visibilityState === "visible",
    );
  }

  // --- The column ---------------------------------------------------------------------------

  function decorate(chat, pane) {
    const id = chat.id;
    // The conversation moves into a column of its own; the aside sits beside it.
    const main = h("div", { className: "pane__main" });
    const header = pane.el.querySelector(".pane__header");
    const rest = Array.from(pane.el.children).filter((node) => node !== header);
    main.append(...rest);

    const asideId = `aside-${id}`;
    const titleId = `aside-title-${id}`;
    const toggle = h("button", {
      type: "button",
      className: "btn btn-outline-secondary btn-sm pane__aside-toggle",
      text: "Summary",
      "aria-controls": asideId,
      "aria-expanded": "true",
      title: "Show or hide the summary",
      onclick: () => setOpen(!isOpen(), { from: toggle }),
    });
    header.querySelector(".pane__actions")?.prepend(toggle);

    const status = h("p", { className: "aside__status", hidden: true });
    const hide = h("button", {
      type: "button",
      className: "btn-close aside__hide",
      "aria-label": "Hide the summary",
      onclick: () => setOpen(false, { from: toggle }),
    });
    const parts = buildSummary(chat);
    const sections = h("div", { className: "aside__sections" });
    const scroll = h("div", { className: "aside__scroll" }, status, parts.root, sections);
    const aside = h(
      "aside",
      {
        className: "pane__aside",
        id: asideId,
        "aria-labelledby": titleId,
      },
      h(
        "div",
        { className: "aside__head" },
        h("h3", { className: "aside__title", id: titleId, text: "Summary" }),
        hide,
      ),
      scroll,
    );
    aside.addEventListener("keydown", (event) => {
      // A drawer over the conversation on narrow screens: Escape puts it away.
      if (event.key === "Escape" && !wide.matches && isOpen()) {
        event.stopPropagation();
        setOpen(false, { from: toggle });
      }
    });
    pane.el.append(h("div", { className: "pane__body" }, main, aside));
    pane.main = main;
    pane.aside = { el: aside, toggle, status, sections, scroll, ...parts };
    applyOpen(pane);
    render(chat);
    for (const callback of paneCallbacks) runCallback(callback, chat, pane);
  }

  function runCallback(callback, chat, pane) {
    try {
      callback(chat, pane);
    } catch (error) {
      console.warn("side panel section failed", error); // one section must not break a pane
    }
  }

  /** Add an element (a section with its own heading) to a pane's side column. */
  function addSection(pane, element) {
    const target = pane?.aside?.sections || pane?.querySelector?.(".aside__sections");
    if (!target) throw new Error("addSection: not a console pane");
    element.classList.add("aside__section");
    target.append(element);
    return element;
  }

  /** Run `callback(chat, pane)` for every pane, those built already and each new one. */
  function onPane(callback) {
    paneCallbacks.push(callback);
    for (const chat of chats.values()) if (chat.pane?.aside) runCallback(callback, chat, chat.pane);
  }

  function applyOpen(pane) {
    const open = isOpen();
    pane.el.dataset.aside = open ? "open" : "closed";
    pane.aside.toggle.setAttribute("aria-expanded", String(open));
    pane.aside.el.hidden = !open;
  }

  function setOpen(open, { from } = {}) {
    if (wide.matches) {
      openWide = open;
      try {
        localStorage.setItem(OPEN_KEY, open ? "open" : "closed");
      } catch {
        /* storage blocked: the choice lasts for this page */
      }
    } else {
      openNarrow = open;
    }
    for (const chat of chats.values()) if (chat.pane?.aside) applyOpen(chat.pane);
    const chat = chats.get(shownId);
    if (open && chat?.pane?.aside) {
      if (Date.now() - stateOf(chat.id).requestedAt > REFRESH_AFTER_EVENT_MS) request(chat.id);
      tick();
      if (!wide.matches) chat.pane.aside.el.querySelector(".aside__hide").focus();
    } else if (!open && from && from.isConnected && !from.closest("[hidden]")) {
      const active = document.activeElement;
      if (!active || active === document.body || chat?.pane?.aside.el.contains(active)) {
        from.focus();
      }
    }
  }

  wide.addEventListener("change", () => {
    for (const chat of chats.values()) if (chat.pane?.aside) applyOpen(chat.pane);
    if (shownId != null && isOpen()) request(shownId);
  });

  // --- The summary's parts (built once per pane, filled on every summary) ------------------

  function buildSummary(chat) {
    const id = chat.id;
    const fact = (label) => {
      const value = h("dd", { className: "summary__value" });
      const row = h("div", { className: "summary__fact" }, h("dt", { text: label }), value);
      return { row, value };
    };
    const topic = fact("Topic");
    const customer = fact("Customer");
    const agent = fact("Agent");
    const hold = h("p", { className: "summary__hold", hidden: true });

    const waitingNow = h("span", { className: "summary__wait", role: "timer" });
    const waitedTotal = h("span", { className: "summary__total", role: "timer" });
    const unanswered = h("span", { className: "summary__unanswered" });
    const canned = h("span", { className: "summary__canned" });
    const cannedHint = h("span", { className: "summary__canned-hint", hidden: true });
    const figures = h(
      "ul",
      { className: "summary__figures" },
      h("li", {}, waitingNow),
      h("li", {}, waitedTotal),
      h("li", {}, unanswered),
      h("li", { className: "summary__canned-row" }, canned, cannedHint),
    );

    const first = buildQuote(id, "first", "First question");
    const last = buildQuote(id, "last", "Last customer message");

    const transfersTitle = h("h4", { className: "summary__heading", text: "Transfers" });
    const transfers = h("ol", { className: "summary__transfers" });
    const transfersEmpty = h("p", { className: "summary__empty", text: "Not transferred." });

    const notesList = h("ol", { className: "summary__notes", "aria-live": "polite" });
    const notesEmpty = h("p", { className: "summary__empty", text: "No notes yet." });
    const noteForm = buildNoteForm(chat);

    const historyChats = h("ol", { className: "summary__history" });
    const historyTickets = h("ol", { className: "summary__history" });
    const historyEmpty = h("p", { className: "summary__empty" });
    const chatsTitle = h("h5", { className: "summary__subheading", text: "Earlier chats" });
    const ticketsTitle = h("h5", { className: "summary__subheading", text: "Tickets" });

    // This chat's transcript for staff: read it whole, or download it (HTML / text).
    const base = `/console/chats/${encodeURIComponent(chat.id)}`;
    const downloads = h(
      "p",
      { className: "summary__downloads" },
      h("a", { href: `${base}/`, target: "_blank", rel: "noopener", text: "Transcript" }),
      " · download ",
      h("a", { href: `${base}/transcript.html`, download: "", text: "HTML" }),
      " / ",
      h("a", { href: `${base}/transcript.txt`, download: "", text: "text" }),
    );
    const root = h(
      "div",
      { className: "summary", "aria-busy": "true" },
      h("dl", { className: "summary__facts" }, topic.row, customer.row, agent.row),
      downloads,
      hold,
      figures,
      first.section,
      last.section,
      h("section", { className: "summary__block" }, transfersTitle, transfers, transfersEmpty),
      h(
        "section",
        { className: "summary__block summary__notes-block" },
        h("h4", { className: "summary__heading", text: "Internal notes" }),
        h("p", { className: "summary__private", text: "Only staff see these notes." }),
        notesList,
        notesEmpty,
        noteForm.wrapper,
      ),
      h(
        "section",
        { className: "summary__block" },
        h("h4", { className: "summary__heading", text: "Customer history" }),
        historyEmpty,
        chatsTitle,
        historyChats,
        ticketsTitle,
        historyTickets,
      ),
    );
    return {
      root,
      topic: topic.value,
      customer: customer.value,
      agent: agent.value,
      agentRow: agent.row,
      hold,
      waitingNow,
      waitedTotal,
      unanswered,
      canned,
      cannedHint,
      first,
      last,
      transfersTitle,
      transfers,
      transfersEmpty,
      notesList,
      notesEmpty,
      note: noteForm,
      historyChats,
      historyTickets,
      historyEmpty,
      chatsTitle,
      ticketsTitle,
    };
  }

  /** A customer message, clamped to a few lines, with "Show all" when it is longer. */
  function buildQuote(chatId, key, label) {
    const textId = `summary-${key}-${chatId}`;
    const when = h("span", { className: "summary__when" });
    const text = h("p", { className: "summary__quote", id: textId });
    const more = h("button", {
      type: "button",
      className: "btn btn-link btn-sm p-0 summary__more",
      text: "Show all",
      "aria-controls": textId,
      "aria-expanded": "false",
      hidden: true,
      onclick: () => {
        const st = stateOf(chatId);
        if (st.expanded.has(key)) st.expanded.delete(key);
        else st.expanded.add(key);
        syncQuote(chatId, key, quote);
      },
    });
    const section = h(
      "section",
      { className: "summary__block", dataset: { quote: key } },
      h("h4", { className: "summary__heading" }, label, " ", when),
      text,
      more,
    );
    const quote = { section, when, text, more };
    return quote;
  }

  function syncQuote(chatId, key, quote) {
    const expanded = stateOf(chatId).expanded.has(key);
    quote.text.classList.toggle("is-clamped", !expanded && !quote.more.hidden);
    quote.more.setAttribute("aria-expanded", String(expanded));
    quote.more.textContent = expanded ? "Show less" : "Show all";
  }

  /**
   * "Add a note" opens the form (a disclosure): the note's textarea is in the page only while
   * the form is open, so the pane holds one textarea otherwise, the reply's. Its draft is kept
   * when the form is closed.
   */
  function buildNoteForm(chat) {
    const id = chat.id;
    const formId = `note-form-${id}`;
    const inputId = `note-input-${id}`;
    const hintId = `note-hint-${id}`;
    const counterId = `note-counter-${id}`;
    const input = h("textarea", {
      className: "form-control form-control-sm summary__note-input",
      id: inputId,
      rows: "3",
      maxlength: String(NOTE_MAX),
      "aria-describedby": `${hintId} ${counterId}`,
    });
    const slot = h("div", { className: "summary__note-slot" });
    const counter = h("span", { className: "hd-counter", id: counterId, text: `0 / ${NOTE_MAX}` });
    const error = h("p", { className: "summary__note-error", role: "alert", hidden: true });
    const done = h("p", { className: "summary__note-done", role: "status" });
    const opener = h("button", {
      type: "button",
      className: "btn btn-sm btn-outline-primary summary__note-open",
      text: "Add a note",
      "aria-expanded": "false",
      "aria-controls": formId,
    });
    const submit = h("button", {
      type: "submit",
      className: "btn btn-sm btn-primary",
      text: "Add note",
    });
    const cancel = h("button", {
      type: "button",
      className: "btn btn-sm btn-outline-secondary",
      text: "Cancel",
    });
    const form = h(
      "form",
      { className: "summary__note-form", id: formId, hidden: true },
      h("label", { className: "summary__label", for: inputId, text: "New internal note" }),
      slot,
      h(
        "div",
        { className: "summary__note-foot" },
        h("span", { id: hintId, text: "Ctrl+Enter adds it · never shown to the customer" }),
        counter,
      ),
      error,
      h("div", { className: "summary__note-actions" }, submit, cancel),
    );
    const wrapper = h(
      "div",
      { className: "summary__note-new", hidden: true },
      h("div", { className: "summary__note-actions" }, opener, done),
      form,
    );
    const note = { wrapper, form, input, slot, counter, error, done, submit, opener };
    note.open = () => {
      if (!form.hidden) return;
      slot.append(input);
      form.hidden = false;
      opener.hidden = true;
      opener.setAttribute("aria-expanded", "true");
      done.textContent = "";
      input.focus();
    };
    note.close = ({ focus = true } = {}) => {
      if (form.hidden) return;
      const hadFocus = form.contains(document.activeElement);
      form.hidden = true;
      input.remove();
      error.hidden = true;
      opener.hidden = false;
      opener.setAttribute("aria-expanded", "false");
      if (focus && hadFocus) opener.focus();
    };
    opener.addEventListener("click", note.open);
    cancel.addEventListener("click", () => note.close());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      sendNote(chat.id);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.isComposing) {
        event.preventDefault();
        sendNote(chat.id);
      } else if (event.key === "Escape") {
        event.stopPropagation(); // only the form closes, not the drawer around it
        note.close();
      }
    });
    input.addEventListener("input", () => {
      syncCounter(note);
      done.textContent = "";
      if (!error.hidden && input.value.trim()) error.hidden = true;
    });
    return note;
  }

  function syncCounter(note) {
    const length = note.input.value.length;
    note.counter.textContent = `${length} / ${NOTE_MAX}`;
    note.counter.classList.toggle("is-near", length > NOTE_MAX * 0.9);
  }

  // --- Asking the server ---------------------------------------------------------------------

  function request(chatId) {
    const chat = chats.get(chatId);
    if (!chat?.pane?.aside) return;
    const st = stateOf(chatId);
    clearTimeout(st.timer);
    st.timer = null;
    if (!client.send("summary", chatId)) {
      st.error = st.summary ? "" : "You are offline: the summary loads once reconnected.";
      renderStatus(chat);
      return;
    }
    st.requestedAt = Date.now();
    st.inflight = true;
    renderStatus(chat);
  }

  /** Ask again soon, at most once every 2 s, if the panel is in view (else when shown). */
  function schedule(chatId) {
    const st = stateOf(chatId);
    st.stale = true;
    if (!inView(chatId) || st.timer) return;
    const wait = Math.max(
      REFRESH_AFTER_EVENT_MS,
      st.requestedAt + REFRESH_AFTER_EVENT_MS - Date.now(),
    );
    st.timer = setTimeout(() => {
      st.timer = null;
      if (inView(chatId)) request(chatId);
    }, wait);
  }

  /** The console selected a pane (switching chats): show what is known and ask again. */
  function show(chat) {
    shownId = chat.id;
    if (!chat.pane?.aside) return;
    applyOpen(chat.pane);
    render(chat);
    const st = stateOf(chat.id);
    // A quick switch back and forth asks once.
    if (!(st.inflight && Date.now() - st.requestedAt < 1000)) request(chat.id);
  }

  /** The console refreshed a pane: a new state of the chat (status, agent, hold, transfer). */
  function update(chat) {
    if (!chat.pane?.aside) return;
    const f = chat.frame;
    const key = [f.status, f.agent?.id, f.transfer_count, f.on_hold_since, f.closed_at].join("|");
    const st = stateOf(chat.id);
    if (st.frameKey && st.frameKey !== key) schedule(chat.id);
    st.frameKey = key;
    syncNoteForm(chat);
    syncHeader(chat);
  }

  function onSummary(frame) {
    const chat = chats.get(frame.chat);
    if (!chat) return;
    const st = stateOf(frame.chat);
    st.summary = frame;
    st.receivedAt = serverNow();
    st.inflight = false;
    st.stale = false;
    st.error = "";
    render(chat);
  }

  function onNote(frame) {
    const chat = chats.get(frame.chat);
    const st = states.get(frame.chat);
    if (!st) return; // a chat this console shows no panel for
    st.liveNotes.set(frame.id, frame);
    const pending = st.pendingNote;
    if (pending && frame.author?.id === me.id && frame.body === pending.body) {
      clearTimeout(st.noteTimer);
      st.pendingNote = null;
      if (chat?.pane?.aside) {
        const note = chat.pane.aside.note;
        if (note.input.value.trim() === pending.body) {
          note.input.value = "";
          note.close();
        }
        syncCounter(note);
        note.done.textContent = "Note added.";
      }
    }
    if (chat) render(chat);
  }

  function onFrame(frame) {
    if (frame.type === "summary") {
      onSummary(frame);
      return true;
    }
    if (frame.type === "note") {
      onNote(frame);
      return true;
    }
    return false;
  }

  /** An error answering our note (shown under the form; true: handled) or our summary (shown
   * in the panel, and left to the console too: it knows what a chat_not_found means). */
  function onError(frame) {
    if (frame.chat == null) return false;
    const st = states.get(frame.chat);
    const chat = chats.get(frame.chat);
    if (!st) return false;
    if (st.pendingNote && NOTE_ERRORS.has(frame.code)) {
      clearTimeout(st.noteTimer);
      st.pendingNote = null;
      if (chat?.pane?.aside) {
        const note = chat.pane.aside.note;
        note.error.textContent = frame.detail || frame.code;
        note.error.hidden = false;
        syncNoteForm(chat);
      }
      return frame.code !== "chat_not_found";
    }
    if (st.inflight && SUMMARY_ERRORS.has(frame.code)) {
      st.inflight = false;
      st.error = `The summary could not be loaded: ${frame.detail || frame.code}`;
      if (chat) renderStatus(chat);
    }
    return false;
  }

  function sendNote(chatId) {
    const chat = chats.get(chatId);
    if (!chat?.pane?.aside) return;
    const st = stateOf(chatId);
    const note = chat.pane.aside.note;
    const body = note.input.value.trim();
    note.error.hidden = true;
    note.done.textContent = "";
    if (st.pendingNote || !canWrite(chat)) return;
    if (!body) {
      note.error.textContent = "Write the note first.";
      note.error.hidden = false;
      note.input.focus();
      return;
    }
    if (body.length > NOTE_MAX) {
      note.error.textContent = `Notes are limited to ${NOTE_MAX} characters.`;
      note.error.hidden = false;
      return;
    }
    if (!client.send("note", chatId, { body })) {
      note.error.textContent =
        "You are offline. The note was not added; try again once reconnected.";
      note.error.hidden = false;
      return;
    }
    st.pendingNote = { body };
    syncNoteForm(chat);
    st.noteTimer = setTimeout(() => {
      if (!st.pendingNote) return;
      st.pendingNote = null;
      note.error.textContent = "No answer from the server: the note may not be saved. Try again.";
      note.error.hidden = false;
      syncNoteForm(chat);
    }, ANSWER_TIMEOUT_MS);
  }

  function syncNoteForm(chat) {
    const note = chat.pane.aside.note;
    const writable = canWrite(chat);
    const busy = Boolean(stateOf(chat.id).pendingNote);
    note.wrapper.hidden = !writable;
    if (!writable) note.close({ focus: false });
    note.submit.disabled = busy;
    note.submit.textContent = busy ? "Adding…" : "Add note";
    note.form.setAttribute("aria-busy", String(busy));
  }

  function syncHeader(chat) {
    const open = isOpen();
    chat.pane.aside.toggle.setAttribute("aria-expanded", String(open));
  }

  // --- Rendering -----------------------------------------------------------------------------

  function renderStatus(chat) {
    const a = chat.pane.aside;
    const st = stateOf(chat.id);
    const text = st.error || (!st.summary ? "Loading the summary…" : "");
    a.status.textContent = text;
    a.status.hidden = !text;
    a.status.dataset.tone = st.error ? "error" : "info";
    a.root.setAttribute("aria-busy", String(st.inflight));
    a.root.hidden = !st.summary;
  }

  function render(chat) {
    if (!chat.pane?.aside) return;
    const a = chat.pane.aside;
    const st = stateOf(chat.id);
    renderStatus(chat);
    syncNoteForm(chat);
    const s = st.summary;
    if (!s) return;

    a.topic.textContent = s.topic?.name || "";
    a.customer.replaceChildren(
      h("span", { className: "summary__name", text: s.customer?.name || "" }),
      s.customer?.email
        ? h("span", { className: "summary__email", text: s.customer.email })
        : h("span", { className: "summary__email summary__muted", text: "no email" }),
      s.customer?.verified
        ? h("span", {
            className: "summary__verified",
            text: "✓ verified by the site",
            title: `Signed in on the site as ${s.customer.external_id}`,
          })
        : "",
    );
    a.agent.textContent = s.agent ? s.agent.name : "Nobody yet (in the queue)";

    const agentMessages = Number(s.agent_messages) || 0;
    const cannedMessages = Number(s.canned_messages) || 0;
    a.unanswered.textContent = `Unanswered: ${Number(s.unanswered_count) || 0}`;
    a.unanswered.dataset.count = String(Number(s.unanswered_count) || 0);
    if (agentMessages) {
      const share = Math.round((cannedMessages / agentMessages) * 100);
      a.canned.textContent = `Canned replies: ${cannedMessages} of ${agentMessages} (${share}%)`;
      const many = cannedMessages / agentMessages > 0.5;
      a.canned.dataset.tone = many ? "warning" : "ok";
      a.cannedHint.hidden = !many;
      a.cannedHint.textContent = many
        ? "Many canned replies can feel robotic: add a personal line."
        : "";
    } else {
      a.canned.textContent = "Canned replies: no replies yet";
      a.canned.dataset.tone = "ok";
      a.cannedHint.hidden = true;
    }

    fillQuote(chat.id, "first", a.first, s.first_question, "The customer has not written yet.");
    fillQuote(
      chat.id,
      "last",
      a.last,
      s.last_customer_message,
      "The customer has not written yet.",
    );

    renderTransfers(a, Array.isArray(s.transfers) ? s.transfers : []);
    renderNotes(a, st, Array.isArray(s.notes) ? s.notes : []);
    renderHistory(a, s);
    tickOne(chat);
  }

  function fillQuote(chatId, key, quote, message, emptyText) {
    if (!message) {
      quote.when.replaceChildren();
      quote.text.textContent = emptyText;
      quote.text.classList.add("summary__muted");
      quote.more.hidden = true;
    } else {
      quote.when.replaceChildren(timeEl(message.at));
      quote.text.textContent = message.body;
      quote.text.classList.remove("summary__muted");
      const long =
        message.body.length > CLAMP_CHARS || message.body.split("\n").length > CLAMP_LINES;
      quote.more.hidden = !long;
    }
    syncQuote(chatId, key, quote);
  }

  function renderTransfers(a, transfers) {
    a.transfersTitle.textContent = transfers.length
      ? `Transfers (${transfers.length})`
      : "Transfers";
    a.transfersEmpty.hidden = transfers.length > 0;
    a.transfers.replaceChildren(
      ...transfers.map((t) => {
        const by = t.by || "The system";
        const to = t.to || "someone";
        const where =
          t.kind === "topic" ? `the ${to} queue` : t.kind === "senior" ? `${to} (senior)` : to;
        return h(
          "li",
          { className: "summary__transfer" },
          h(
            "p",
            { className: "summary__transfer-who" },
            h("span", { text: `${by} → ${where}` }),
            " ",
            timeEl(t.at),
          ),
          t.note ? h("p", { className: "summary__transfer-note", text: t.note }) : null,
        );
      }),
    );
  }

  function renderNotes(a, st, serverNotes) {
    const byId = new Map();
    for (const note of serverNotes) byId.set(note.id, note);
    for (const note of st.liveNotes.values()) byId.set(note.id, note);
    const notes = Array.from(byId.values()).sort(
      (x, y) => Date.parse(x.created_at) - Date.parse(y.created_at) || x.id - y.id,
    );
    a.notesEmpty.hidden = notes.length > 0;
    const nodes = notes.map((note) =>
      h(
        "li",
        { className: "summary__note", dataset: { noteId: note.id } },
        h(
          "p",
          { className: "summary__note-meta" },
          h("span", { className: "summary__note-author", text: note.author?.name || "Staff" }),
          " ",
          timeEl(note.created_at),
        ),
        h("p", { className: "summary__note-body", text: note.body }),
      ),
    );
    // Keep the list as it is when nothing changed (screen readers announce additions).
    const shown = Array.from(a.notesList.children).map((li) => li.dataset.noteId);
    const wanted = notes.map((note) => String(note.id));
    if (shown.join(",") === wanted.join(",")) return;
    if (shown.length && wanted.slice(0, shown.length).join(",") === shown.join(",")) {
      a.notesList.append(...nodes.slice(shown.length));
    } else {
      a.notesList.replaceChildren(...nodes);
    }
  }

  function renderHistory(a, s) {
    const history = s.history || {};
    const earlier = Array.isArray(history.chats) ? history.chats : [];
    const tickets = Array.isArray(history.tickets) ? history.tickets : [];
    const none = !earlier.length && !tickets.length;
    a.historyEmpty.hidden = !none;
    a.historyEmpty.textContent = s.customer?.verified
      ? "No earlier chats or tickets for this customer."
      : s.customer?.email
        ? "No earlier chats or tickets with this email."
        : "No email given: no history to match.";
    a.chatsTitle.hidden = !earlier.length;
    a.ticketsTitle.hidden = !tickets.length;
    a.historyChats.replaceChildren(
      ...earlier.map((c) => {
        const when = formatDate(c.created_at);
        return h(
          "li",
          { className: "summary__past", dataset: { chatId: c.id } },
          h(
            "p",
            { className: "summary__past-top" },
            timeEl(c.created_at, when),
            " · ",
            h("span", { text: c.topic || "" }),
            " ",
            h("span", {
              className: "summary__badge",
              dataset: { status: c.status },
              text: capitalise(c.status),
            }),
          ),
          h("p", {
            className: "summary__past-who",
            text: c.agent ? `with ${c.agent}` : "no agent",
          }),
          safeLink(c.url, "Transcript", `Transcript of the chat of ${when} (opens in a new tab)`),
        );
      }),
    );
    a.historyTickets.replaceChildren(
      ...tickets.map((t) =>
        h(
          "li",
          { className: "summary__past", dataset: { reference: t.reference } },
          h(
            "p",
            { className: "summary__past-top" },
            h("span", { className: "summary__reference", text: t.reference }),
            " · ",
            h("span", { text: t.topic || "" }),
            " ",
            h("span", {
              className: "summary__badge",
              dataset: { status: t.status },
              text: capitalise(t.status),
            }),
          ),
          h(
            "p",
            { className: "summary__past-who" },
            timeEl(t.created_at, formatDate(t.created_at)),
          ),
          safeLink(t.url, "Open ticket", `Ticket ${t.reference} (opens in a new tab)`),
        ),
      ),
    );
  }

  /** A link to a page of this site only (the server sends paths); anything else is text. */
  function safeLink(url, text, label) {
    let href = null;
    try {
      const parsed = new URL(String(url || ""), window.location.origin);
      if (parsed.origin === window.location.origin) href = parsed.href;
    } catch {
      href = null;
    }
    if (!href) return null;
    return h("a", {
      className: "summary__link",
      href,
      target: "_blank",
      rel: "noopener",
      "aria-label": label,
      text,
    });
  }

  // --- Ticking -------------------------------------------------------------------------------

  function tickOne(chat) {
    const st = states.get(chat.id);
    const s = st?.summary;
    if (!s || !chat.pane?.aside) return;
    const a = chat.pane.aside;
    const live = chat.frame || {};
    const status = live.status || s.status;
    const ended = status === "closed";
    // The live chat frame follows every message at once; the summary may be 2 s behind.
    let since = null;
    if (!ended) since = chats.has(chat.id) ? live.awaiting_reply_since : s.awaiting_reply_since;
    const now = serverNow();
    let waiting = null;
    if (since) waiting = Math.max(0, (now - Date.parse(since)) / 1000);
    let total = Number(s.waited_seconds) || 0;
    if (since) total += Math.max(0, (now - Math.max(Date.parse(since), st.receivedAt)) / 1000);
    const level = waitLevel(waiting, live.topic);
    a.waitingNow.dataset.wait = level;
    a.waitingNow.textContent = ended
      ? "Chat ended: not waiting"
      : waiting == null
        ? "Not waiting now: answered"
        : `Waiting now: ${formatDuration(waiting)} (since last answer)`;
    a.waitedTotal.textContent = `Waited in total: ${formatDuration(total)}`;
    const holdSince = chats.has(chat.id) ? live.on_hold_since : s.on_hold_since;
    a.hold.hidden = !holdSince || ended;
    a.hold.textContent = holdSince ? `On hold since ${formatClock(holdSince)}` : "";
  }

  function tick() {
    const chat = chats.get(shownId);
    if (chat && inView(chat.id)) tickOne(chat);
  }

  setInterval(tick, 1000);
  setInterval(() => {
    if (shownId == null || !inView(shownId)) return;
    const st = stateOf(shownId);
    if (Date.now() - st.requestedAt >= REFRESH_EVERY_MS - 1000) request(shownId);
  }, REFRESH_EVERY_MS);

  document.addEventListener("visibilitychange", () => {
    if (shownId == null || !inView(shownId)) return;
    const st = stateOf(shownId);
    if (st.stale || Date.now() - st.requestedAt >= REFRESH_EVERY_MS) request(shownId);
  });

  // A new customer or agent message: the counts and quotes change.
  client.addEventListener("messages", (event) => {
    const { chatId, added } = event.detail;
    const st = states.get(chatId);
    if (!st) return;
    const chat = chats.get(chatId);
    // News only: a replay of the history (on opening a pane, on resume) changes nothing.
    let news = false;
    for (const m of added || []) {
      if (m.seq == null || m.seq <= st.seenSeq) continue;
      st.seenSeq = m.seq;
      if (m.kind === "customer" || m.kind === "agent") news = true;
    }
    if (news) schedule(chatId);
    if (chat && chatId === shownId) tickOne(chat);
  });

  // After a reconnection the panel in view asks again (anything may have changed).
  client.addEventListener("state", (event) => {
    if (event.detail.state !== "open") return;
    for (const st of states.values()) st.inflight = false;
    if (shownId != null && chats.get(shownId)?.pane?.aside) request(shownId);
  });

  return { decorate, show, update, onFrame, onError, addSection, onPane, refresh: request };
}
