/**
 * The agent console: one socket for the agent's chats and the queue, a sidebar sorted by how
 * long each customer has waited, and one pane per chat (drafts kept per chat). Never reloads.
 */
import { ChatClient } from "./socket.js";
import {
  MessageList,
  bindConnectionBanner,
  confirmDialog,
  formatClock,
  formatDuration,
  h,
} from "./ui.js";
import { createTransfers } from "./transfer.js";
import { createBlocks } from "./block.js";
import { createComposer } from "./composer.js";
import { createKnowledgeBase } from "./kb.js";
import { createSidepanel } from "./sidepanel.js";
import { decorateBotMessage } from "./bot.js";

const MAX_LENGTH = 4000;
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 5000;
// Fallback wait thresholds when a chat's topic sets none (topic.amber_after / red_after).
const WAIT_AMBER_S = 60;
const WAIT_RED_S = 180;
// New work rings again this often until its pane is opened (tests may shorten it).
const RING_AGAIN_MS = Number(window.__alertRepeatMs) > 0 ? Number(window.__alertRepeatMs) : 10000;
const DRAFTS_KEY = "helpdesk.console.drafts";
const SELECTED_KEY = "helpdesk.console.selected";
const STATUS_KEY = "helpdesk.console.status";
const MUTE_KEY = "helpdesk.console.muted";
const OVER_CAPACITY_TEXT = "You have reached your limit of chats; close one first.";
const TAKEN_TEXT = "Another agent took this chat.";

const config = JSON.parse(document.getElementById("console-config").textContent);
const me = config.agent;
const $ = (id) => document.getElementById(id);
const ui = {
  conn: $("console-conn"),
  notify: $("console-notify"),
  mute: $("console-mute"),
  status: $("console-status"),
  statusHint: $("status-hint"),
  statusInputs: Array.from(document.querySelectorAll('input[name="agent-status"]')),
  agent: $("console-agent"),
  banner: $("console-banner"),
  lists: {
    mine: $("mine-list"),
    queue: $("queue-list"),
    watching: $("watching-list"),
    ended: $("ended-list"),
  },
  counts: { mine: $("mine-count"), queue: $("queue-count"), watching: $("watching-count") },
  empty: { mine: $("mine-empty"), queue: $("queue-empty") },
  endedSection: $("ended-section"),
  watchingSection: $("watching-section"),
  attention: {
    section: $("attention-section"),
    list: $("attention-list"),
    count: $("attention-count"),
    empty: $("attention-empty"),
  },
  panes: $("panes"),
  placeholder: $("no-pane"),
  toasts: $("toasts"),
};
ui.agent.textContent = me.name;

/** id -> {id, frame, section: mine|queue|watching|ended, unread, fresh (alert pending until the
 * pane is opened), knownSeq, item, pane, notice, takeError, watching (a supervisor opened it)} */
const chats = new Map();
let selectedId = null;
let clockOffsetMs = 0; // server clock minus ours, from the snapshot's server_time
let firstSnapshot = true;
// A chat to open watched, from a link like /console/#watch=42 (the supervisors' live page).
let hashWatch = Number(/^#watch=(\d+)$/.exec(window.location.hash)?.[1]) || null;
const baseTitle = document.title;

const scheme = window.location.protocol === "https:" ? "wss" : "ws";
const client = new ChatClient({
  url: `${scheme}://${window.location.host}/ws/console/`,
  role: "agent",
});

// --- Small helpers ------------------------------------------------------------------------------

const serverNow = () => Date.now() + clockOffsetMs;

function waitSeconds(chat) {
  const since = chat.frame.awaiting_reply_since;
  return since ? (serverNow() - Date.parse(since)) / 1000 : null;
}

function threshold(value, fallback) {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** Green, amber or red against the chat's topic thresholds (60 s / 180 s when it sets none). */
function waitLevel(seconds, topic) {
  if (seconds == null) return "none";
  const amber = threshold(topic?.amber_after, WAIT_AMBER_S);
  const red = Math.max(amber, threshold(topic?.red_after, WAIT_RED_S));
  if (seconds < amber) return "green";
  if (seconds < red) return "amber";
  return "red";
}

function toast(message, tone = "danger") {
  const node = h("div", {
    className: `console-toast console-toast--${tone}`,
    role: "status",
    text: message,
  });
  ui.toasts.append(node);
  setTimeout(() => node.remove(), 6000);
}

const drafts = (() => {
  try {
    return JSON.parse(sessionStorage.getItem(DRAFTS_KEY)) || {};
  } catch {
    return {};
  }
})();

function saveDraft(id, text) {
  if (text) drafts[id] = text;
  else delete drafts[id];
  try {
    sessionStorage.setItem(DRAFTS_KEY, JSON.stringify(drafts));
  } catch {
    /* storage full or blocked: drafts stay in the page */
  }
}

// --- Sound and desktop notifications for new work ---------------------------------------------

let audio = null;
function beep() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume();
    const start = audio.currentTime + 0.01;
    [880, 660].forEach((frequency, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      const t = start + i * 0.16;
      osc.type = "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.18, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(t);
      osc.stop(t + 0.32);
    });
  } catch {
    /* no audio: the badge and title still say it */
  }
}
// Browsers only allow sound after a user gesture: unlock it on the first one.
for (const type of ["pointerdown", "keydown"]) {
  window.addEventListener(
    type,
    () => {
      audio = audio || new AudioContext();
      if (audio.state === "suspended") audio.resume();
    },
    { once: true },
  );
}

function desktopNotify(chat, title, body) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const note = new Notification(title, { body, tag: `helpdesk-chat-${chat.id}` });
    note.onclick = () => {
      window.focus();
      select(chat.id);
      note.close();
    };
  } catch {
    /* some browsers only notify from a service worker: the sound and badge remain */
  }
}

function syncNotifyButton() {
  ui.notify.hidden = !("Notification" in window) || Notification.permission !== "default";
}
ui.notify.addEventListener("click", async () => {
  await Notification.requestPermission();
  syncNotifyButton();
});
syncNotifyButton();

// --- Alerts: new work rings until its pane is opened ---------------------------------------------

let muted = localStorage.getItem(MUTE_KEY) === "1";
// Test hook: how many times the alert rang (sound played, i.e. not muted).
window.__alerts = 0;

function syncMuteButton() {
  ui.mute.setAttribute("aria-pressed", String(muted));
  ui.mute.classList.toggle("is-muted", muted);
  ui.mute.title = muted ? "Alerts are silent; new chats are still flagged" : "Alerts ring";
}
ui.mute.addEventListener("click", () => {
  muted = !muted;
  try {
    localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
  } catch {
    /* storage blocked: the choice lasts for this page */
  }
  syncMuteButton();
});
syncMuteButton();

function ring() {
  if (muted) return;
  window.__alerts += 1;
  beep();
}

const paneInView = (id) => selectedId === id && document.visibilityState === "visible";

/** New work: flag the chat (sidebar and title), ring, and notify; rings again until opened. */
function raiseAlert(chat, title, body) {
  if (paneInView(chat.id)) return;
  chat.fresh = true;
  ring();
  desktopNotify(chat, title, body);
}

setInterval(() => {
  if (Array.from(chats.values()).some((c) => c.fresh)) ring();
}, RING_AGAIN_MS);

document.addEventListener("visibilitychange", () => {
  const chat = chats.get(selectedId);
  if (chat && chat.fresh && paneInView(chat.id)) {
    chat.fresh = false;
    refresh(chat);
    renderSidebar();
  }
});

// --- Chat state from frames -------------------------------------------------------------------

function upsert(frame, { fromSnapshot, watch = false }) {
  let chat = chats.get(frame.id);
  const known = Boolean(chat);
  if (!chat) {
    chat = {
      id: frame.id,
      unread: 0,
      fresh: false,
      knownSeq: frame.last_seq,
      item: null,
      pane: null,
      notice: "",
    };
    chats.set(frame.id, chat);
  }
  const wasMine = known && chat.section === "mine";
  if (watch) chat.watching = true;
  chat.frame = frame;
  chat.knownSeq = Math.max(chat.knownSeq, frame.last_seq || 0);

  if (frame.status === "queued") {
    chat.section = "queue";
    if (wasMine) {
      // Taken away from me (e.g. I was away too long): read-only until taken again.
      chat.notice =
        "This chat went back to the queue: you can no longer write in it. Take it again to reply.";
      chat.takenAway = true;
      chat.fresh = false;
    } else if (!known && !fromSnapshot) {
      const preview = frame.preview ? ` · ${frame.preview}` : "";
      raiseAlert(chat, `New chat: ${frame.customer.name}`, `${frame.topic.name}${preview}`);
    }
  } else if (frame.status === "active" && frame.agent && frame.agent.id === me.id) {
    chat.section = "mine";
    chat.notice = "";
    chat.takenAway = false;
    chat.takeError = "";
    client.track(chat.id);
    if (!wasMine && !firstSnapshot) {
      chat.fresh = false;
      const preview = frame.preview ? ` · ${frame.preview}` : "";
      raiseAlert(chat, `Chat assigned: ${frame.customer.name}`, `${frame.topic.name}${preview}`);
    }
  } else if (frame.status === "active" && chat.watching) {
    // A supervisor looking at a colleague's chat: live, and they may write in it.
    chat.section = "watching";
    chat.notice = `${frame.agent.name} has this chat. As a supervisor you can write in it.`;
  } else if (frame.status === "active") {
    const who = frame.agent ? frame.agent.name : "Another agent";
    // Still "taken away" when a later frame of it arrives (the console watches it).
    chat.takenAway = wasMine || Boolean(chat.takenAway);
    leave(
      chat,
      chat.takenAway
        ? `${who} has this chat now: it is read-only for you.`
        : `${who} took this chat.`,
    );
  } else if (frame.status === "closed") {
    const by = { customer: "The customer ended the chat.", agent: "You ended the chat." }[
      frame.closed_by
    ];
    leave(chat, by || "The chat ended.");
  }
  // A chat that left me (passed on, or back in a queue this console may not follow) or that a
  // supervisor opened stays live in its pane; an ended one has nothing more to say.
  if ((chat.takenAway || chat.watching) && frame.status !== "closed" && chats.has(chat.id)) {
    if (chat.section !== "mine") client.watch(chat.id);
  } else if (client.isWatched(chat.id)) {
    client.unwatch(chat.id);
  }
  if (chat.section === "mine" && client.isWatched(chat.id)) client.unwatch(chat.id);
  if (frame.status === "closed" && attention.delete(frame.id)) renderAttention();
  refresh(chat);
}

/** A chat leaves the active lists; its pane stays readable (under "Ended") until dismissed. */
function leave(chat, notice) {
  chat.fresh = false;
  chat.takeError = "";
  // One's own chats, and those that left this agent (watched), stay in sync; others stop.
  if (chat.section !== "mine" && !chat.takenAway) client.untrack(chat.id);
  if (chat.pane || chat.section === "mine") {
    chat.section = "ended";
    chat.notice = notice;
  } else {
    remove(chat);
  }
}

function remove(chat) {
  client.unwatch(chat.id);
  client.untrack(chat.id);
  chat.item?.remove();
  chat.pane?.el.remove();
  chats.delete(chat.id);
  if (selectedId === chat.id) selectedId = null;
}

function onSnapshot(frame) {
  clockOffsetMs = Date.parse(frame.server_time) - Date.now() || 0;
  if (me.is_supervisor) client.send("attention", null);
  const present = new Set();
  for (const chatFrame of frame.chats) {
    present.add(chatFrame.id);
    upsert(chatFrame, { fromSnapshot: true });
  }
  // What changed while we were away: chats no longer ours or no longer queued.
  for (const chat of Array.from(chats.values())) {
    if (!present.has(chat.id) && chat.section !== "ended") {
      leave(chat, "This chat is no longer open or in the queue.");
      refresh(chat);
    }
  }
  renderSidebar();
  if (firstSnapshot) {
    if (hashWatch) client.send("watch", hashWatch);
    firstSnapshot = false;
    const remembered = Number(sessionStorage.getItem(SELECTED_KEY));
    const order = navOrder();
    if (chats.has(remembered)) select(remembered, { focus: false });
    else if (order.length && chats.get(order[0]).section === "mine")
      select(order[0], { focus: false });
  }
}

function onMessages({ chatId, added }) {
  const chat = chats.get(chatId);
  if (!chat) return;
  for (const message of added) {
    if (message.seq <= chat.knownSeq) continue; // history, not news
    chat.knownSeq = message.seq;
    chat.frame.last_seq = Math.max(chat.frame.last_seq || 0, message.seq);
    if (message.kind === "customer") {
      chat.frame.preview = message.body.slice(0, 140);
      chat.frame.last_customer_message_at = message.created_at;
      chat.frame.awaiting_reply_since = chat.frame.awaiting_reply_since || message.created_at;
      if (!(selectedId === chatId && document.hasFocus())) chat.unread += 1;
      if (chat.section === "mine") {
        raiseAlert(chat, `${chat.frame.customer.name} wrote`, message.body.slice(0, 140));
      }
      hideTyping(chat);
    } else if (message.kind === "agent") {
      chat.frame.awaiting_reply_since = null;
    }
  }
  if (chat.pane) chat.pane.list.render(client.log(chatId).items());
  refresh(chat);
  renderSidebar();
  if (attention.has(chatId)) renderAttention();
}

function onFrame(frame) {
  switch (frame.type) {
    case "chats":
      onSnapshot(frame);
      break;
    case "chat": {
      if (frame.id === hashWatch) {
        // The answer to the link's `watch`: open it like a flagged chat (live, notes).
        hashWatch = null;
        history.replaceState(null, "", window.location.pathname + window.location.search);
        openAttention(frame);
        break;
      }
      const before = chats.get(frame.id)?.section;
      upsert(frame, { fromSnapshot: false });
      renderSidebar();
      const chat = chats.get(frame.id);
      transfers.onChat(chat);
      // Just taken while looking at it: ready to type.
      if (chat && before === "queue" && chat.section === "mine" && selectedId === chat.id) {
        chat.pane?.input.focus();
      }
      break;
    }
    case "typing": {
      const chat = chats.get(frame.chat);
      if (chat && frame.kind === "customer") showTyping(chat);
      break;
    }
    case "agent_status":
      onAgentStatus(frame);
      break;
    case "attention":
      onAttention(frame);
      break;
    case "alert":
      onAlert(frame);
      break;
    case "error":
      onError(frame);
      break;
    case "blocked":
      blocks.onFrame(frame);
      break;
    default:
      if (!sidepanel.onFrame(frame)) transfers.onFrame(frame);
      break;
  }
}

// --- Supervisors: chats that need attention ----------------------------------------------------

/** chat id -> {reason, frame}: chats flagged to supervisors in their current wait. */
const attention = new Map();
const ATTENTION_REASONS = {
  red: "Waiting past the red limit",
  no_reply: "Agent did not answer in time",
};
const ATTENTION_REFRESH_MS = 60000;

function onAttention(frame) {
  attention.clear();
  for (const item of frame.chats) {
    attention.set(item.chat.id, {
      reason: item.reason,
      frame: item.chat,
      waitedSeconds: item.waited_seconds,
    });
  }
  renderAttention();
}

function onAlert(frame) {
  attention.set(frame.chat.id, {
    reason: frame.reason,
    frame: frame.chat,
    waitedSeconds: frame.waited_seconds,
  });
  renderAttention();
  const text = ATTENTION_REASONS[frame.reason] || "Needs attention";
  toast(`${frame.chat.customer.name} (${frame.chat.topic.name}): ${text}.`, "warning");
}

function renderAttention() {
  if (!me.is_supervisor) return;
  const a = ui.attention;
  a.section.hidden = false;
  const items = Array.from(attention.values()).sort(
    (x, y) =>
      Date.parse(x.frame.awaiting_reply_since || x.frame.created_at) -
      Date.parse(y.frame.awaiting_reply_since || y.frame.created_at),
  );
  a.list.replaceChildren(...items.map(buildAttentionItem));
  a.count.textContent = String(items.length);
  a.empty.hidden = items.length > 0;
}

function buildAttentionItem(item) {
  const f = item.frame;
  // How long the customer had waited when flagged; "answered" once this console sees a reply.
  const live = chats.get(f.id)?.frame;
  const waited =
    live && !live.awaiting_reply_since
      ? "answered"
      : formatDuration(Math.max(0, item.waitedSeconds || 0));
  const where = f.agent ? `with ${f.agent.name}` : "in the queue";
  return h(
    "li",
    { className: "attention-item", dataset: { chatId: f.id, reason: item.reason } },
    h(
      "button",
      {
        type: "button",
        className: "attention-item__open",
        onclick: () => openAttention(f),
      },
      h("span", { className: "attention-item__name", text: f.customer.name }),
      h("span", { className: "attention-item__waited", text: waited }),
      h("span", {
        className: "attention-item__why",
        text: `${ATTENTION_REASONS[item.reason] || "Needs attention"} · ${f.topic.name}, ${where}`,
      }),
    ),
    h("button", {
      type: "button",
      className: "btn-close attention-item__dismiss",
      "aria-label": `Dismiss ${f.customer.name}`,
      onclick: () => {
        attention.delete(f.id);
        renderAttention();
      },
    }),
  );
}

/** Open a flagged chat: one's own or a queued one as usual, a colleague's live (watched). */
function openAttention(frame) {
  const known = chats.get(frame.id);
  if (!known || !["mine", "queue"].includes(known.section)) {
    upsert(frame, { fromSnapshot: true, watch: true });
    renderSidebar();
  }
  if (chats.has(frame.id)) select(frame.id);
  else toast(`${frame.customer.name}'s chat has ended.`, "info");
}

if (me.is_supervisor) {
  renderAttention();
  setInterval(() => client.send("attention", null), ATTENTION_REFRESH_MS);
}

function onError(frame) {
  if (frame.client_msg_id) return; // shown next to the message itself
  if (blocks.onError(frame)) return; // an answer to "End & block" (shown in its dialog)
  if (sidepanel.onError(frame)) return; // an answer to a note or a summary (side panel)
  if (transfers.onError(frame)) return; // an answer to a transfer the agent is making
  // Only frames without a chat can fail without naming one: the answer to our status choice.
  if (frame.chat == null && statusState.pending) {
    statusRefused(frame);
    return;
  }
  const chat = frame.chat != null ? chats.get(frame.chat) : null;
  const name = chat ? chat.frame.customer.name : "";
  if (chat && frame.code === "already_assigned") {
    toast(`Another agent took ${name}'s chat first.`, "warning");
    leave(chat, TAKEN_TEXT);
    refresh(chat);
    renderSidebar();
  } else if (chat && frame.code === "over_capacity") {
    // Nothing changed: the chat stays in the queue, with the reason next to it.
    chat.takeError = OVER_CAPACITY_TEXT;
    refresh(chat);
    renderSidebar();
  } else if (chat && frame.code === "chat_not_found") {
    leave(chat, "This chat is no longer available to you.");
    client.untrack(chat.id);
    refresh(chat);
    renderSidebar();
  } else if (frame.code !== "rate_limited" && frame.code !== "busy") {
    toast(name ? `${name}: ${frame.detail}` : frame.detail);
  }
}

// --- Sidebar ------------------------------------------------------------------------------------

function byWait(a, b) {
  const wa = a.frame.awaiting_reply_since;
  const wb = b.frame.awaiting_reply_since;
  if (wa && wb) return Date.parse(wa) - Date.parse(wb);
  if (wa) return -1;
  if (wb) return 1;
  return Date.parse(a.frame.created_at) - Date.parse(b.frame.created_at);
}

function sectionChats(section) {
  return Array.from(chats.values())
    .filter((c) => c.section === section)
    .sort(byWait);
}

/** The order of Alt+1…9 and Alt+↑/↓: as the sidebar shows them. */
function navOrder() {
  return ["mine", "queue", "watching", "ended"].flatMap((section) =>
    sectionChats(section).map((c) => c.id),
  );
}

function renderSidebar() {
  for (const section of ["mine", "queue", "watching", "ended"]) {
    const list = ui.lists[section];
    const items = sectionChats(section);
    items.forEach((chat, index) => {
      if (!chat.item) chat.item = buildItem(chat);
      updateItem(chat);
      if (list.children[index] !== chat.item)
        list.insertBefore(chat.item, list.children[index] || null);
    });
    for (const node of Array.from(list.children)) {
      const chat = chats.get(Number(node.dataset.chatId));
      if (!chat || chat.section !== section) node.remove();
    }
    if (ui.counts[section]) ui.counts[section].textContent = String(items.length);
    if (ui.empty[section]) ui.empty[section].hidden = items.length > 0;
    if (section === "ended") ui.endedSection.hidden = items.length === 0;
    if (section === "watching") ui.watchingSection.hidden = items.length === 0;
  }
  navOrder().forEach((id, index) => {
    const item = chats.get(id).item;
    item
      .querySelector(".chat-item__open")
      .setAttribute("aria-keyshortcuts", index < 9 ? `Alt+${index + 1}` : "");
  });
  updateTitle();
}

function buildItem(chat) {
  const open = h(
    "button",
    { type: "button", className: "chat-item__open", onclick: () => select(chat.id) },
    h(
      "span",
      { className: "chat-item__top" },
      h("span", { className: "chat-item__name" }),
      h("span", { className: "chat-item__badge", hidden: true }),
      h("span", { className: "chat-item__timer", role: "timer" }),
    ),
    h("span", { className: "chat-item__topic" }),
    h("span", { className: "chat-item__preview" }),
  );
  const take = h("button", {
    type: "button",
    className: "btn btn-sm btn-primary chat-item__take",
    text: "Take",
    onclick: () => takeChat(chat.id),
  });
  const error = h("p", { className: "chat-item__error", role: "alert", hidden: true });
  return h("li", { className: "chat-item", dataset: { chatId: chat.id } }, open, take, error);
}

function updateItem(chat) {
  const item = chat.item;
  const f = chat.frame;
  item.dataset.section = chat.section;
  item.classList.toggle("is-selected", selectedId === chat.id);
  item.classList.toggle("is-fresh", chat.fresh);
  const open = item.querySelector(".chat-item__open");
  if (selectedId === chat.id) open.setAttribute("aria-current", "true");
  else open.removeAttribute("aria-current");
  item.querySelector(".chat-item__name").textContent = f.customer.name;
  item.querySelector(".chat-item__topic").textContent = f.topic.name;
  item.querySelector(".chat-item__preview").textContent =
    chat.section === "ended" ? chat.notice : f.preview || "No message yet";
  const badge = item.querySelector(".chat-item__badge");
  badge.hidden = chat.unread === 0;
  badge.replaceChildren(
    String(chat.unread),
    h("span", { className: "visually-hidden", text: " unread" }),
  );
  item.querySelector(".chat-item__take").hidden = chat.section !== "queue";
  const error = item.querySelector(".chat-item__error");
  error.hidden = !(chat.takeError && chat.section === "queue");
  error.textContent = error.hidden ? "" : chat.takeError;
  updateTimer(chat);
}

function updateTimer(chat) {
  if (!chat.item) return;
  const seconds = chat.section === "ended" ? null : waitSeconds(chat);
  const level = waitLevel(seconds, chat.frame.topic);
  const timer = chat.item.querySelector(".chat-item__timer");
  chat.item.dataset.wait = level;
  timer.dataset.wait = level;
  timer.textContent = seconds == null ? "" : formatDuration(seconds);
  timer.setAttribute("aria-label", seconds == null ? "" : `waiting ${formatDuration(seconds)}`);
  if (chat.pane) {
    chat.pane.waited.textContent =
      seconds == null ? "answered" : `waiting ${formatDuration(seconds)}`;
    chat.pane.waited.dataset.wait = level;
  }
}

setInterval(() => {
  for (const chat of chats.values()) updateTimer(chat);
}, 1000);

function updateTitle() {
  let count = 0; // chats with something new: an alert not yet seen or unread messages
  for (const chat of chats.values()) if (chat.fresh || chat.unread) count += 1;
  document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
}

/** Re-render a chat's sidebar entry and pane after its state changed (then renderSidebar). */
function refresh(chat) {
  if (!chats.has(chat.id)) return;
  if (chat.item) updateItem(chat);
  if (chat.pane) updatePane(chat);
}

// --- Panes --------------------------------------------------------------------------------------

function buildPane(chat) {
  const id = chat.id;
  const title = h("h2", { className: "pane__title", id: `pane-title-${id}` });
  const email = h("span", { className: "pane__email" });
  const topic = h("span", { className: "pane__topic" });
  const started = h("span", { className: "pane__started" });
  const waited = h("span", { className: "pane__waited" });
  const takeBtn = h("button", {
    type: "button",
    className: "btn btn-primary btn-sm",
    text: "Take chat",
    onclick: () => takeChat(id),
  });
  const closeBtn = h("button", {
    type: "button",
    className: "btn btn-outline-danger btn-sm",
    text: "Close chat",
    onclick: () => closeChat(id),
  });
  const dismissBtn = h("button", {
    type: "button",
    className: "btn btn-outline-secondary btn-sm",
    text: "Dismiss",
    onclick: () => dismiss(id),
  });
  const notice = h("div", { className: "pane__notice", role: "status", hidden: true });
  const list = h("ol", {
    className: "msg-list",
    "aria-live": "polite",
    "aria-relevant": "additions",
  });
  const scroller = h(
    "div",
    { className: "pane__scroll", "data-scroll": "", tabindex: "0", "aria-label": "Messages" },
    list,
  );
  const typing = h(
    "div",
    { className: "hd-typing", "aria-live": "polite", hidden: true },
    h("span", { className: "hd-typing__dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")),
    h("span", { className: "pane__typing-text" }),
  );
  const replying = h("div", { className: "pane__replying", id: `replying-${id}` });
  const input = h("textarea", {
    className: "hd-composer__input",
    rows: "2",
    maxlength: String(MAX_LENGTH),
    placeholder: "Write a reply…",
    "aria-labelledby": `replying-${id}`,
    "aria-describedby": `hint-${id} counter-${id}`,
  });
  input.value = drafts[id] || "";
  const counter = h("span", { className: "hd-counter", id: `counter-${id}` });
  const error = h("div", { className: "hd-composer__error", role: "alert", hidden: true });
  const composer = h(
    "form",
    { className: "hd-composer pane__composer" },
    replying,
    h(
      "div",
      { className: "hd-composer__row" },
      input,
      h(
        "button",
        { type: "submit", className: "hd-composer__send", "aria-label": "Send reply" },
        sendIcon(),
      ),
    ),
    h(
      "div",
      { className: "hd-composer__foot" },
      h("span", { id: `hint-${id}`, text: "Enter to send · Shift+Enter for a new line" }),
      counter,
    ),
    error,
  );
  const el = h(
    "article",
    {
      className: "pane",
      dataset: { chatId: id },
      "aria-labelledby": `pane-title-${id}`,
      hidden: true,
    },
    h(
      "header",
      { className: "pane__header" },
      h(
        "div",
        { className: "pane__who" },
        title,
        h("p", { className: "pane__meta" }, topic, email, started, waited),
      ),
      h("div", { className: "pane__actions" }, takeBtn, closeBtn, dismissBtn),
    ),
    notice,
    scroller,
    typing,
    composer,
  );
  const pane = {
    el,
    title,
    email,
    topic,
    started,
    waited,
    takeBtn,
    closeBtn,
    dismissBtn,
    notice,
    typing,
    replying,
    input,
    counter,
    error,
    composer,
    typingTimer: null,
    lastTypingSent: 0,
    list: new MessageList(list, {
      ownKind: "agent",
      showOwnAuthor: false,
      // After a transfer, or with a supervisor stepping in, a chat holds several agents'
      // messages: only this agent's own sit on the right; the others show who wrote them.
      // (The wire names authors by display name; a pending message has none yet.)
      isOwn: (item) => item.kind === "agent" && (!item.author || item.author === me.name),
      onRetry: (cid) => client.retry(id, cid),
      onDiscard: (cid) => client.discard(id, cid),
      // The answer bot's messages: labelled automated, with the articles the customer saw.
      decorate: (node, item) => decorateBotMessage(node, item, { label: "Bot (automated)" }),
    }),
  };
  transfers.decorate(chat, pane);
  blocks.decorate(chat, pane); // "End & block" beside "Close chat"
  // Quick replies, phrase completion, tone guard, hold: before the keydown below (menu keys).
  composerTools.decorate(chat, pane);
  kb.decorate(chat, pane); // the knowledge base panel above the composer
  sidepanel.decorate(chat, pane); // the summary column beside the conversation
  composer.addEventListener("submit", (event) => sendReply(event, chat));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) sendReply(event, chat);
  });
  input.addEventListener("input", () => {
    updateCounter(pane);
    saveDraft(id, input.value);
    const now = Date.now();
    if (
      chat.section === "mine" &&
      input.value.trim() &&
      now - pane.lastTypingSent >= TYPING_EVERY_MS
    ) {
      pane.lastTypingSent = now;
      client.send("typing", id);
    }
  });
  updateCounter(pane);
  return pane;
}

function sendIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "20");
  svg.setAttribute("height", "20");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

function updateCounter(pane) {
  const length = pane.input.value.length;
  pane.counter.textContent = `${length} / ${MAX_LENGTH}`;
  pane.counter.classList.toggle("is-near", length > MAX_LENGTH * 0.9);
}

function updatePane(chat) {
  const p = chat.pane;
  const f = chat.frame;
  p.title.textContent = f.customer.name;
  p.topic.textContent = f.topic.name;
  p.email.textContent = f.customer.email || "no email";
  p.started.textContent = `started ${formatClock(f.created_at)}`;
  p.replying.textContent = `Replying to ${f.customer.name} · ${f.topic.name}`;
  p.el.dataset.section = chat.section;
  p.takeBtn.hidden = chat.section !== "queue";
  p.closeBtn.hidden = !canWrite(chat);
  p.dismissBtn.hidden = !["ended", "watching"].includes(chat.section);
  const writable = canWrite(chat);
  p.composer.hidden = !writable;
  p.input.disabled = !writable;
  p.el.classList.toggle("is-readonly", !writable);
  p.notice.hidden = !["ended", "queue", "watching"].includes(chat.section);
  if (chat.section === "queue" && chat.takeError) {
    p.notice.textContent = chat.takeError;
    p.notice.dataset.tone = "error";
    p.notice.setAttribute("role", "alert");
  } else {
    p.notice.setAttribute("role", "status");
    if (chat.section === "queue" && chat.takenAway) {
      p.notice.textContent = chat.notice;
      p.notice.dataset.tone = "warning";
    } else if (chat.section === "queue") {
      p.notice.textContent = `${f.customer.name} is waiting in the queue. Take the chat to reply.`;
      p.notice.dataset.tone = "info";
    } else if (chat.section === "watching") {
      p.notice.textContent = chat.notice;
      p.notice.dataset.tone = "info";
    } else {
      p.notice.textContent = chat.notice;
      p.notice.dataset.tone = chat.section === "ended" && chat.takenAway ? "warning" : "ended";
    }
  }
  if (!writable) hideTyping(chat);
  updateTimer(chat);
  transfers.update(chat);
  blocks.update(chat);
  composerTools.update(chat);
  kb.update(chat);
  sidepanel.update(chat);
}

/** Only the chat's agent writes, and supervisors in any chat they opened. */
function canWrite(chat) {
  return chat.section === "mine" || (chat.section === "watching" && me.is_supervisor);
}

function showTyping(chat) {
  if (!chat.pane) return;
  const p = chat.pane;
  p.typing.querySelector(".pane__typing-text").textContent =
    `${chat.frame.customer.name} is typing…`;
  p.typing.hidden = false;
  clearTimeout(p.typingTimer);
  p.typingTimer = setTimeout(() => hideTyping(chat), TYPING_SHOWN_MS);
}

function hideTyping(chat) {
  if (!chat.pane) return;
  chat.pane.typing.hidden = true;
  clearTimeout(chat.pane.typingTimer);
}

function select(id, { focus = true } = {}) {
  const chat = chats.get(id);
  if (!chat) return;
  const previous = chats.get(selectedId);
  if (previous?.pane) previous.pane.el.hidden = true;
  selectedId = id;
  sessionStorage.setItem(SELECTED_KEY, String(id));
  if (!chat.pane) {
    chat.pane = buildPane(chat);
    ui.panes.append(chat.pane.el);
  }
  // Queued chats are loaded when looked at; one's own chats are always kept in sync.
  if (chat.section === "queue" || chat.section === "mine") client.track(id);
  chat.pane.el.hidden = false;
  ui.placeholder.hidden = true;
  chat.unread = 0;
  chat.fresh = false;
  updatePane(chat);
  chat.pane.list.render(client.log(id).items());
  chat.pane.list.scrollToBottom();
  sidepanel.show(chat); // asks for the chat's summary
  if (previous && previous !== chat && previous.item) updateItem(previous);
  refresh(chat);
  renderSidebar();
  if (focus) {
    if (canWrite(chat)) chat.pane.input.focus();
    else if (chat.section === "queue") chat.pane.takeBtn.focus();
    else chat.pane.dismissBtn.focus();
  }
}

function move(step) {
  const order = navOrder();
  if (!order.length) return;
  const index = order.indexOf(selectedId);
  const next = index === -1 ? 0 : (index + step + order.length) % order.length;
  select(order[next]);
}

// --- Actions ------------------------------------------------------------------------------------

function takeChat(id) {
  if (!client.send("take", id)) {
    toast("You are offline. Try again once reconnected.", "warning");
    return;
  }
  const chat = chats.get(id);
  if (chat) chat.takeError = "";
  select(id, { focus: false });
}

async function closeChat(id) {
  const chat = chats.get(id);
  if (!chat) return;
  const yes = await confirmDialog({
    title: `End the chat with ${chat.frame.customer.name}?`,
    body: "The customer will see that the chat has ended.",
    confirmLabel: "Close chat",
  });
  if (!yes) {
    chat.pane?.closeBtn.focus();
    return;
  }
  if (!client.send("close", id)) toast("You are offline. Try again once reconnected.", "warning");
}

function dismiss(id) {
  const chat = chats.get(id);
  if (!chat) return;
  const order = navOrder();
  const next = order[order.indexOf(id) + 1] ?? order[order.indexOf(id) - 1];
  saveDraft(id, "");
  remove(chat);
  renderSidebar();
  if (next != null && next !== id) select(next);
  else ui.placeholder.hidden = false;
}

function sendReply(event, chat) {
  event.preventDefault();
  const p = chat.pane;
  const body = p.input.value;
  p.error.hidden = true;
  if (!body.trim() || !canWrite(chat)) return;
  if (body.length > MAX_LENGTH) {
    p.error.textContent = `Messages are limited to ${MAX_LENGTH} characters.`;
    p.error.hidden = false;
    return;
  }
  const extra = composerTools.beforeSend(chat, body); // null: held back by the tone guard
  if (!extra) return;
  client.sendMessage(chat.id, body, extra);
  p.input.value = "";
  saveDraft(chat.id, "");
  updateCounter(p);
  p.list.scrollToBottom();
}

// --- Keyboard -------------------------------------------------------------------------------------

document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey || document.querySelector("dialog[open]"))
    return;
  const digit = /^Digit([1-9])$/.exec(event.code);
  if (digit) {
    const id = navOrder()[Number(digit[1]) - 1];
    if (id != null) select(id);
    event.preventDefault();
  } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
    move(event.key === "ArrowUp" ? -1 : 1);
    event.preventDefault();
  }
});

window.addEventListener("focus", () => {
  const chat = chats.get(selectedId);
  if (chat && chat.unread) {
    chat.unread = 0;
    refresh(chat);
    renderSidebar();
  }
});

// --- Status: online (chats are assigned to me) or away ---------------------------------------------

function storedStatus() {
  try {
    const value = localStorage.getItem(STATUS_KEY);
    return value === "online" || value === "away" ? value : null;
  } catch {
    return null;
  }
}

/** chosen: what this browser last chose (re-sent on every connect); confirmed: the server's
 * answer on this connection; pending: sent, not answered yet. */
const statusState = { chosen: storedStatus(), confirmed: null, pending: null };

const STATUS_HINTS = {
  online: "Online — new chats are assigned to you",
  away: "Away — you receive no new chats",
};

function renderStatus() {
  const { pending, confirmed, chosen } = statusState;
  const shown = pending || confirmed || chosen || "away";
  const settled = confirmed === "online" ? "online" : "away"; // "offline" reads as away
  for (const input of ui.statusInputs) input.checked = input.value === shown;
  ui.status.dataset.status = pending ? "pending" : settled;
  if (pending) {
    ui.statusHint.textContent = pending === "online" ? "Going online…" : "Going away…";
  } else if (!confirmed && chosen === "online") {
    ui.statusHint.textContent = "Going online once connected…";
  } else {
    ui.statusHint.textContent = STATUS_HINTS[settled];
  }
}

function sendStatus(status) {
  if (!client.connection.send({ type: "status", status })) return false;
  statusState.pending = status;
  renderStatus();
  return true;
}

function onAgentStatus(frame) {
  statusState.pending = null;
  statusState.confirmed = frame.status;
  if (frame.status === "online" || frame.status === "away") {
    statusState.chosen = frame.status;
    try {
      localStorage.setItem(STATUS_KEY, frame.status);
    } catch {
      /* storage blocked: the choice lasts for this page */
    }
  }
  renderStatus();
}

/** The server refused the choice: show the state it had before. */
function statusRefused(frame) {
  statusState.pending = null;
  statusState.chosen = storedStatus();
  renderStatus();
  toast(`Your status was not changed: ${frame.detail || frame.code}`);
}

for (const input of ui.statusInputs) {
  input.addEventListener("change", () => {
    if (!input.checked) return;
    if (!sendStatus(input.value)) {
      toast("You are offline. Try again once reconnected.", "warning");
      renderStatus();
      return;
    }
    statusState.chosen = input.value;
  });
}
renderStatus();

// --- Connection -----------------------------------------------------------------------------------

const CONN_LABELS = {
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  stopped: "Disconnected",
};
client.addEventListener("state", (event) => {
  const { state } = event.detail;
  ui.conn.dataset.state = state;
  ui.conn.textContent = CONN_LABELS[state] || state;
  if (state === "open") {
    // A new connection: keep the agent's choice (a reload or reconnect keeps them online).
    statusState.confirmed = null;
    statusState.pending = null;
    if (statusState.chosen) sendStatus(statusState.chosen);
    else renderStatus();
  } else if (statusState.pending) {
    statusState.pending = null;
    renderStatus();
  }
});
bindConnectionBanner(client, ui.banner, {
  onStopped: () => {
    if (client.connection.closeCode === 4001) {
      const text = ui.banner.querySelector("[data-banner-text]");
      text.replaceChildren(
        "You are logged out. ",
        h("a", { href: config.login_url, text: "Log in again" }),
      );
    }
  },
});
// Transfers and escalation: the dialog, the sender's bar, request cards, the pinned note.
const transfers = createTransfers({
  client,
  chats,
  me,
  select,
  refresh,
  renderSidebar,
  leave,
  toast,
  ring,
  serverNow,
  repeatMs: RING_AGAIN_MS,
});
// The knowledge base: search articles and insert a link or an excerpt into the reply.
const kb = createKnowledgeBase({ canWrite, maxLength: MAX_LENGTH });
// The side panel: the chat's summary, internal notes and the customer's history.
const sidepanel = createSidepanel({ client, chats, me, serverNow, canWrite, waitLevel });
// The composer: `/` quick replies, phrase completion, the tone guard and the hold reply.
const composerTools = createComposer({ client, toast, canWrite });
// Difficult customers: "End & block" on each pane the agent writes in.
const blocks = createBlocks({ client, chats, canWrite, toast });
client.addEventListener("frame", (event) => onFrame(event.detail));
client.addEventListener("messages", (event) => onMessages(event.detail));
client.start();
