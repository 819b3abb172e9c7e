/**
 * The reliable chat socket shared by the customer page and the agent console.
 *
 * The wire contract is docs/protocol.md. Three layers, each small:
 *   - Connection: one websocket that reconnects with exponential backoff and jitter, keeps a
 *     heartbeat (ping every 25 s, dead if nothing arrives within 10 s of a ping), paces what it
 *     sends below the server's flood limits, and stops on the fatal close codes.
 *   - ChatLog: the messages of one chat, kept by seq (deduplicated, sorted), plus this client's
 *     own messages that the server has not acknowledged yet.
 *   - ChatClient: ties both together: resumes every tracked chat on (re)connect and on gaps,
 *     resends unacknowledged messages with the same client_msg_id until their `ack`.
 */

export const HEARTBEAT_INTERVAL_MS = 25000;
export const HEARTBEAT_TIMEOUT_MS = 10000;
const CONNECT_TIMEOUT_MS = 10000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 10000;
const FLOOD_CLOSE_WAIT_MS = 15000;
// Below the server's defaults (10 frames/s, bursts of 30) so a busy console never trips them.
const SEND_RATE_PER_SECOND = 8;
const SEND_BURST = 20;
// A gap often heals by itself (an ack overtaking its message frame): wait before resuming.
const GAP_GRACE_MS = 400;
const RESEND_AFTER_MS = 10000;

/** Close codes after which reconnecting cannot help (docs/protocol.md, "Close codes"). */
export const FATAL_CLOSE_CODES = {
  4001: "Your session is no longer valid.",
  4003: "This account may not use the chat console.",
  4004: "The chat service address is wrong.",
};
const FLOOD_CLOSE_CODE = 4008;
// Errors about a message that are worth sending again as they are.
const RETRYABLE_ERRORS = new Set(["rate_limited", "busy", "internal_error", "unavailable"]);

/** Exponential backoff with "equal jitter": half fixed, half random. */
export function backoffDelay(attempt, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS) {
  const ceiling = Math.min(cap, base * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** A UUID for client_msg_id; crypto.randomUUID only exists in secure contexts. */
export function newClientMsgId() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The optional fields of a message frame a client may add (docs/protocol.md): `origin` and
 * `tone_overrides`; anything else is dropped. null when there are none. */
export function messageExtra(extra) {
  if (!extra || typeof extra !== "object") return null;
  const fields = {};
  if (typeof extra.origin === "string" && extra.origin) fields.origin = extra.origin;
  if (Array.isArray(extra.tone_overrides) && extra.tone_overrides.length) {
    fields.tone_overrides = extra.tone_overrides.filter((p) => typeof p === "string");
  }
  return Object.keys(fields).length ? fields : null;
}

/** A token bucket: how long to wait before the next frame may go out. */
class Pacer {
  constructor(ratePerSecond, burst) {
    this.rate = ratePerSecond;
    this.burst = burst;
    this.tokens = burst;
    this.updated = performance.now();
  }

  waitMs() {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updated) / 1000) * this.rate);
    this.updated = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }
}

/**
 * One websocket that heals itself.
 * Events: "state" ({state, reason}), "open", "frame" (a parsed server frame), "wake".
 * States: connecting, open, reconnecting, stopped.
 */
export class Connection extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.state = "idle";
    this.reason = "";
    this.ws = null;
    this.attempt = 0;
    this.queue = [];
    this.pacer = new Pacer(SEND_RATE_PER_SECOND, SEND_BURST);
    this.timers = {};
    this.lastFrameAt = 0;
    this.lastError = null;
    this._onOnline = () => {
      if (this.state === "reconnecting") this.reconnectNow();
    };
    this._onVisible = () => {
      if (document.visibilityState !== "visible") return;
      if (this.state === "open") {
        // After a sleep the socket may be half-open: check it now, and catch up.
        this._ping();
        this.dispatchEvent(new Event("wake"));
      } else if (this.state === "reconnecting") {
        this.reconnectNow();
      }
    };
  }

  start() {
    if (this.state !== "idle" && this.state !== "stopped") return;
    window.addEventListener("online", this._onOnline);
    document.addEventListener("visibilitychange", this._onVisible);
    this._setState("connecting");
    this._open();
  }

  /** Stop for good: no more reconnects. */
  stop(reason = "") {
    this._clearTimers();
    window.removeEventListener("online", this._onOnline);
    document.removeEventListener("visibilitychange", this._onVisible);
    this._drop(1000);
    this._setState("stopped", reason);
  }

  reconnectNow() {
    if (this.state === "stopped" || this.state === "open") return;
    clearTimeout(this.timers.retry);
    this.attempt = 0;
    this._drop(4000);
    this._open();
  }

  get isOpen() {
    return this.state === "open" && this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  /** Queue a frame; it leaves as soon as the socket is open and the pacer allows. */
  send(frame) {
    if (!this.isOpen) return false;
    this.queue.push(JSON.stringify(frame));
    this._pump();
    return true;
  }

  _setState(state, reason = "") {
    if (this.state === state && this.reason === reason) return;
    this.state = state;
    this.reason = reason;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, reason } }));
  }

  _open() {
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this._stopFor(`The chat address is not valid (${err.message}).`);
      return;
    }
    this.ws = ws;
    this.lastError = null;
    clearTimeout(this.timers.connect);
    this.timers.connect = setTimeout(() => this._lost(ws), CONNECT_TIMEOUT_MS);
    ws.addEventListener("open", () => {
      if (ws !== this.ws) return;
      clearTimeout(this.timers.connect);
      this.lastFrameAt = performance.now();
      this.queue = [];
      this._setState("open");
      this._startHeartbeat();
      this.dispatchEvent(new Event("open"));
    });
    ws.addEventListener("message", (event) => {
      if (ws !== this.ws) return;
      this.lastFrameAt = performance.now();
      // The connection works end to end: the next failure starts a fresh backoff.
      this.attempt = 0;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!frame || typeof frame !== "object") return;
      if (frame.type === "error") this.lastError = frame;
      this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.ws) return;
      this._onClose(event.code);
    });
  }

  _onClose(code) {
    this._clearTimers();
    this.ws = null;
    this.queue = [];
    if (Object.hasOwn(FATAL_CLOSE_CODES, code)) {
      const detail = this.lastError && this.lastError.detail;
      this._stopFor(detail || FATAL_CLOSE_CODES[code], code);
      return;
    }
    const delay = code === FLOOD_CLOSE_CODE ? FLOOD_CLOSE_WAIT_MS : backoffDelay(this.attempt);
    this.attempt += 1;
    this._setState("reconnecting");
    this.timers.retry = setTimeout(() => this._open(), delay);
  }

  _stopFor(reason, code = 0) {
    this._clearTimers();
    window.removeEventListener("online", this._onOnline);
    document.removeEventListener("visibilitychange", this._onVisible);
    this.closeCode = code;
    this._setState("stopped", reason);
  }

  /** The socket is dead (no handshake, no heartbeat): forget it now, do not wait for TCP. */
  _lost(ws) {
    if (ws !== this.ws) return;
    this._drop(4000);
    this._onClose(1006);
  }

  _drop(code) {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try {
        ws.close(code);
      } catch {
        /* already closing */
      }
    }
  }

  _pump() {
    clearTimeout(this.timers.pump);
    while (this.queue.length && this.isOpen) {
      const wait = this.pacer.waitMs();
      if (wait > 0) {
        this.timers.pump = setTimeout(() => this._pump(), wait);
        return;
      }
      this.ws.send(this.queue.shift());
    }
  }

  _startHeartbeat() {
    clearInterval(this.timers.heartbeat);
    this.timers.heartbeat = setInterval(() => this._ping(), HEARTBEAT_INTERVAL_MS);
  }

  _ping() {
    if (!this.isOpen) return;
    const ws = this.ws;
    const sentAt = performance.now();
    this.send({ type: "ping" });
    clearTimeout(this.timers.pong);
    this.timers.pong = setTimeout(() => {
      if (this.lastFrameAt < sentAt) this._lost(ws);
    }, HEARTBEAT_TIMEOUT_MS);
  }

  _clearTimers() {
    clearTimeout(this.timers.connect);
    clearTimeout(this.timers.retry);
    clearTimeout(this.timers.pong);
    clearTimeout(this.timers.pump);
    clearInterval(this.timers.heartbeat);
  }
}

/**
 * The messages of one chat. Server messages are kept by seq; this client's own messages wait
 * in `pending` (state "sending" or "failed") until acknowledged.
 */
export class ChatLog {
  constructor(chatId, ownKind) {
    this.chatId = chatId;
    this.ownKind = ownKind;
    this.bySeq = new Map();
    this.pending = new Map();
    this.contiguous = 0;
    this.maxSeq = 0;
    this.expectedSeq = 0;
  }

  static keyOf(kind, clientMsgId, seq) {
    return clientMsgId ? `c:${kind}:${clientMsgId}` : `s:${seq}`;
  }

  /** Store a `message` frame; true if anything visible changed. */
  addMessage(frame) {
    const existing = this.bySeq.get(frame.seq);
    if (existing && !existing.provisional) return false;
    const entry = {
      seq: frame.seq,
      kind: frame.kind,
      body: frame.body,
      author: frame.author,
      created_at: frame.created_at,
      client_msg_id: frame.client_msg_id || null,
      key: ChatLog.keyOf(frame.kind, frame.client_msg_id, frame.seq),
      state: "sent",
      provisional: false,
      // An automated answer's articles (kind "bot"); null for every other message.
      bot: frame.bot && typeof frame.bot === "object" ? frame.bot : null,
    };
    if (entry.client_msg_id && frame.kind === this.ownKind)
      this.pending.delete(entry.client_msg_id);
    this._store(entry);
    return true;
  }

  addPending(clientMsgId, body, extra = null) {
    this.pending.set(clientMsgId, {
      seq: null,
      kind: this.ownKind,
      body,
      extra: extra || null,
      author: null,
      created_at: new Date().toISOString(),
      client_msg_id: clientMsgId,
      key: ChatLog.keyOf(this.ownKind, clientMsgId, null),
      state: "sending",
      error: null,
    });
  }

  /** The server stored our message as `seq`: show it there, even before its message frame. */
  ack(clientMsgId, seq) {
    const pending = this.pending.get(clientMsgId);
    if (!pending) return false;
    this.pending.delete(clientMsgId);
    if (!this.bySeq.has(seq)) {
      this._store({ ...pending, seq, state: "sent", error: null, provisional: true });
    }
    return true;
  }

  fail(clientMsgId, detail) {
    const pending = this.pending.get(clientMsgId);
    if (!pending) return false;
    pending.state = "failed";
    pending.error = detail;
    return true;
  }

  retry(clientMsgId) {
    const pending = this.pending.get(clientMsgId);
    if (!pending) return null;
    pending.state = "sending";
    pending.error = null;
    return pending;
  }

  discard(clientMsgId) {
    return this.pending.delete(clientMsgId);
  }

  /** The server says the chat has messages up to `seq` (a `chat` frame's last_seq). */
  expect(seq) {
    if (typeof seq === "number") this.expectedSeq = Math.max(this.expectedSeq, seq);
  }

  hasGap() {
    return Math.max(this.maxSeq, this.expectedSeq) > this.contiguous;
  }

  /** Messages in order: stored ones by seq, then our own still on their way. */
  items() {
    const stored = Array.from(this.bySeq.values()).sort((a, b) => a.seq - b.seq);
    return stored.concat(Array.from(this.pending.values()));
  }

  get size() {
    return this.bySeq.size;
  }

  _store(entry) {
    this.bySeq.set(entry.seq, entry);
    this.maxSeq = Math.max(this.maxSeq, entry.seq);
    while (this.bySeq.has(this.contiguous + 1)) this.contiguous += 1;
  }
}

/**
 * A chat client over one Connection: the customer's (one chat) or an agent's console (many).
 * Events:
 *   "state"    {state, reason}          connection state
 *   "messages" {chatId, added: [entry]}  a chat's log changed (added: new live messages)
 *   "frame"    the raw server frame, after the client handled it (chat, chats, typing, error...)
 *   "outbox"   {chatId}                 the unacknowledged messages of a chat changed
 */
export class ChatClient extends EventTarget {
  constructor({ url, role }) {
    super();
    this.role = role;
    this.ownKind = role === "agent" ? "agent" : "customer";
    this.logs = new Map();
    this.tracked = new Set();
    // Chats followed with `watch` (not ours): the server forgets them on reconnect.
    this.watched = new Set();
    // Per chat, the last_seq of the newest state applied: every state change stores a system
    // message, so a `chat` frame with a lower last_seq is an older state arriving late.
    this.stateSeq = new Map();
    this.resuming = new Map();
    this.outbox = new Map();
    this.gapTimers = new Map();
    this.connection = new Connection(url);
    this.connection.addEventListener("state", (e) => {
      this.dispatchEvent(new CustomEvent("state", { detail: e.detail }));
    });
    this.connection.addEventListener("open", () => this._onOpen());
    this.connection.addEventListener("wake", () => this._resumeAll());
    this.connection.addEventListener("frame", (e) => this._onFrame(e.detail));
    this.resendTimer = null;
  }

  start() {
    this.connection.start();
    this.resendTimer = setInterval(() => this._resendStale(), RESEND_AFTER_MS / 2);
  }

  stop(reason) {
    clearInterval(this.resendTimer);
    for (const timer of this.gapTimers.values()) clearTimeout(timer);
    this.connection.stop(reason);
  }

  get state() {
    return this.connection.state;
  }

  log(chatId) {
    let log = this.logs.get(chatId);
    if (!log) {
      log = new ChatLog(chatId, this.ownKind);
      this.logs.set(chatId, log);
    }
    return log;
  }

  /** Keep a chat complete: load its history now and after every reconnect or gap. */
  track(chatId) {
    if (this.tracked.has(chatId)) return;
    this.tracked.add(chatId);
    this._resume(chatId);
  }

  untrack(chatId) {
    this.tracked.delete(chatId);
    this.resuming.delete(chatId);
  }

  isTracked(chatId) {
    return this.tracked.has(chatId);
  }

  /** Follow a chat that is not ours (read-only; supervisors may write): its frames arrive
   * live, now and after every reconnect, and its history is kept complete. */
  watch(chatId) {
    if (!this.watched.has(chatId)) {
      this.watched.add(chatId);
      this.send("watch", chatId);
    }
    this.track(chatId);
  }

  /** Stop following a watched chat (its history stays tracked unless untracked too). */
  unwatch(chatId) {
    if (this.watched.delete(chatId)) this.send("unwatch", chatId);
  }

  isWatched(chatId) {
    return this.watched.has(chatId);
  }

  /** Send a frame that is not a message (typing, take, close); false when offline. */
  send(type, chatId, extra = {}) {
    return this.connection.send(this._frame(type, chatId, extra));
  }

  /** Show a message at once and send it until the server acknowledges it. `extra`: optional
   * fields of the message frame (agents: `origin`, `tone_overrides`), sent with every resend. */
  sendMessage(chatId, body, extra = {}) {
    const clientMsgId = newClientMsgId();
    const fields = messageExtra(extra);
    this.log(chatId).addPending(clientMsgId, body, fields);
    this._enqueue(chatId, clientMsgId, body, fields);
    this._changed(chatId, []);
    return clientMsgId;
  }

  /** Messages restored from storage (e.g. typed offline before a reload): send them again. */
  restorePending(chatId, items) {
    const log = this.log(chatId);
    for (const item of items) {
      if (!item || !item.client_msg_id || typeof item.body !== "string") continue;
      const fields = messageExtra(item.extra);
      log.addPending(item.client_msg_id, item.body, fields);
      this._enqueue(chatId, item.client_msg_id, item.body, fields);
    }
    this._changed(chatId, []);
  }

  retry(chatId, clientMsgId) {
    const pending = this.log(chatId).retry(clientMsgId);
    if (!pending) return;
    this._enqueue(chatId, clientMsgId, pending.body, pending.extra);
    this._changed(chatId, []);
  }

  discard(chatId, clientMsgId) {
    this.outbox.delete(clientMsgId);
    this.log(chatId).discard(clientMsgId);
    this._changed(chatId, []);
    this._outboxChanged(chatId);
  }

  /** What is still on its way for a chat, for storage. */
  unacked(chatId) {
    return Array.from(this.outbox.values())
      .filter((item) => item.chatId === chatId)
      .map((item) =>
        item.extra
          ? { client_msg_id: item.clientMsgId, body: item.body, extra: item.extra }
          : { client_msg_id: item.clientMsgId, body: item.body },
      );
  }

  _frame(type, chatId, extra) {
    const frame = { type, ...extra };
    // Customers' frames omit `chat`: the token implies it.
    if (this.role === "agent" && chatId != null) frame.chat = chatId;
    return frame;
  }

  _enqueue(chatId, clientMsgId, body, extra = null) {
    const item = { chatId, clientMsgId, body, extra: extra || null, sentAt: 0 };
    this.outbox.set(clientMsgId, item);
    this._outboxChanged(chatId);
    this._transmit(item);
  }

  _transmit(item) {
    // Every (re)send is the same frame: the extra fields ride along each time.
    const frame = this._frame("message", item.chatId, {
      ...(item.extra || {}),
      body: item.body,
      client_msg_id: item.clientMsgId,
    });
    if (this.connection.send(frame)) item.sentAt = performance.now();
  }

  _onOpen() {
    this.resuming.clear();
    // Watch before resuming, so nothing falls between the replay and the live frames.
    for (const chatId of this.watched) this.send("watch", chatId);
    this._resumeAll();
    // Resend everything unacknowledged, with the same client_msg_id: stored once, acked again.
    for (const item of this.outbox.values()) this._transmit(item);
  }

  _resumeAll() {
    for (const chatId of this.tracked) this._resume(chatId);
  }

  _resume(chatId) {
    if (this.resuming.has(chatId)) return;
    const afterSeq = this.log(chatId).contiguous;
    if (this.send("resume", chatId, { after_seq: afterSeq })) {
      this.resuming.set(chatId, performance.now());
    }
  }

  _scheduleGapCheck(chatId) {
    if (!this.tracked.has(chatId) || this.gapTimers.has(chatId)) return;
    this.gapTimers.set(
      chatId,
      setTimeout(() => {
        this.gapTimers.delete(chatId);
        if (this.log(chatId).hasGap()) this._resume(chatId);
      }, GAP_GRACE_MS),
    );
  }

  _resendStale() {
    if (!this.connection.isOpen) return;
    const now = performance.now();
    for (const item of this.outbox.values()) {
      if (now - item.sentAt > RESEND_AFTER_MS) this._transmit(item);
    }
    // A resume whose answer never came (e.g. rate limited) is asked again.
    for (const [chatId, since] of this.resuming) {
      if (now - since > RESEND_AFTER_MS) {
        this.resuming.delete(chatId);
        if (this.tracked.has(chatId)) this._resume(chatId);
      }
    }
  }

  _onFrame(frame) {
    switch (frame.type) {
      case "message":
        this._onMessage(frame);
        break;
      case "ack":
        this._onAck(frame);
        break;
      case "resumed":
        this._onResumed(frame);
        break;
      case "error":
        this._onError(frame);
        break;
      case "chat":
        if (this._isStale(frame)) return;
        this._expect(frame);
        break;
      case "chats":
        // A snapshot is the state as of the (re)connection: it replaces what was known.
        this.stateSeq.clear();
        for (const chat of Array.isArray(frame.chats) ? frame.chats : []) {
          this._isStale(chat);
          this._expect(chat);
        }
        break;
      default:
        break;
    }
    this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
  }

  /** Records the frame's state version; true when a newer state was already applied. */
  _isStale(chatFrame) {
    if (typeof chatFrame.id !== "number" || typeof chatFrame.last_seq !== "number") return false;
    const applied = this.stateSeq.get(chatFrame.id);
    if (applied !== undefined && chatFrame.last_seq < applied) return true;
    this.stateSeq.set(chatFrame.id, chatFrame.last_seq);
    return false;
  }

  /** A chat frame tells the chat's last seq: anything stored without a live frame is fetched. */
  _expect(chatFrame) {
    if (typeof chatFrame.id !== "number") return;
    this.log(chatFrame.id).expect(chatFrame.last_seq);
    this._scheduleGapCheck(chatFrame.id);
  }

  _onMessage(frame) {
    if (typeof frame.chat !== "number" || typeof frame.seq !== "number") return;
    const log = this.log(frame.chat);
    const isNew = !log.bySeq.has(frame.seq);
    const wasPending = Boolean(frame.client_msg_id && log.pending.has(frame.client_msg_id));
    if (!log.addMessage(frame)) return;
    if (wasPending) {
      this.outbox.delete(frame.client_msg_id);
      this._outboxChanged(frame.chat);
    }
    this._changed(frame.chat, isNew ? [log.bySeq.get(frame.seq)] : []);
    this._scheduleGapCheck(frame.chat);
  }

  _onAck(frame) {
    const item = this.outbox.get(frame.client_msg_id);
    const chatId = typeof frame.chat === "number" ? frame.chat : item && item.chatId;
    if (chatId == null) return;
    this.outbox.delete(frame.client_msg_id);
    const log = this.log(chatId);
    const isNew = !log.bySeq.has(frame.seq);
    if (log.ack(frame.client_msg_id, frame.seq)) {
      this._changed(chatId, isNew && log.bySeq.has(frame.seq) ? [log.bySeq.get(frame.seq)] : []);
    }
    this._outboxChanged(chatId);
    this._scheduleGapCheck(chatId);
  }

  _onResumed(frame) {
    const chatId = frame.chat;
    this.resuming.delete(chatId);
    if (!this.tracked.has(chatId)) return;
    const log = this.log(chatId);
    if (frame.more || (log.hasGap() && frame.last_seq != null)) {
      this._resume(chatId);
    }
    this._changed(chatId, [], { resumed: true });
  }

  _onError(frame) {
    const item = frame.client_msg_id ? this.outbox.get(frame.client_msg_id) : null;
    if (item) {
      if (RETRYABLE_ERRORS.has(frame.code)) {
        item.sentAt = performance.now() - RESEND_AFTER_MS + 2000;
      } else {
        this.outbox.delete(item.clientMsgId);
        this.log(item.chatId).fail(item.clientMsgId, frame.detail);
        this._changed(item.chatId, []);
        this._outboxChanged(item.chatId);
      }
      return;
    }
    if (frame.chat != null && this.resuming.has(frame.chat) && frame.code !== "rate_limited") {
      // The chat cannot be read (any more): stop keeping it in sync.
      this.resuming.delete(frame.chat);
    }
    if (frame.code === "rate_limited") {
      // Something we sent was dropped; the resend timer sends unacked messages again soon.
      for (const it of this.outbox.values()) it.sentAt = performance.now() - RESEND_AFTER_MS + 2000;
    }
  }

  _changed(chatId, added, extra = {}) {
    this.dispatchEvent(new CustomEvent("messages", { detail: { chatId, added, ...extra } }));
  }

  _outboxChanged(chatId) {
    this.dispatchEvent(new CustomEvent("outbox", { detail: { chatId } }));
  }
}
