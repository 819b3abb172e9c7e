/**
 * Small DOM helpers shared by the customer page and the console.
 *
 * Everything that comes from the network is put into the page with textContent or as the href
 * of an <a> built here for http(s) URLs only: never innerHTML.
 */

/** Build an element: h("p", {className: "x", text: "hi", dataset: {seq: 1}}, child, ...). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (name === "text") el.textContent = value;
    else if (name === "className") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

/** Put `text` into `container` as text, with http(s) links as safe <a> elements. */
export function renderText(container, text) {
  container.replaceChildren();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let raw = match[0];
    const trailing = raw.match(TRAILING_PUNCTUATION);
    if (trailing) raw = raw.slice(0, -trailing[0].length);
    const start = match.index;
    const href = safeHttpUrl(raw);
    if (!href) continue;
    if (start > last) container.append(document.createTextNode(text.slice(last, start)));
    const link = h("a", {
      href,
      target: "_blank",
      rel: "noopener noreferrer nofollow",
      text: raw,
    });
    container.append(link);
    last = start + raw.length;
  }
  if (last < text.length) container.append(document.createTextNode(text.slice(last)));
}

function safeHttpUrl(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export function formatClock(iso) {
  const date = iso ? new Date(iso) : null;
  return date && !Number.isNaN(date.getTime()) ? clock.format(date) : "";
}

/** 75 -> "1:15", 3700 -> "1:01:40". */
export function formatDuration(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, "0");
  return hours
    ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}`
    : `${minutes}:${seconds}`;
}

/**
 * Keeps an <ol> in step with a ChatLog's items without rebuilding it, so scrolling, selection
 * and focus survive every update. `ownKind` is whose messages sit on the right with a state;
 * `isOwn(item)` narrows it where several people write as that kind (agents of one chat).
 */
export class MessageList {
  constructor(
    listEl,
    { ownKind, onRetry, onDiscard, showOwnAuthor = false, isOwn = null, decorate = null },
  ) {
    this.el = listEl;
    // decorate(node, item): a feature adds to a message's node once, when it is created
    // (e.g. automated answers: their label and articles, static/chat/bot.js).
    this.decorate = decorate;
    this.ownKind = ownKind;
    this.isOwn = isOwn || ((item) => item.kind === ownKind);
    this.onRetry = onRetry;
    this.onDiscard = onDiscard;
    this.showOwnAuthor = showOwnAuthor;
    this.nodes = new Map();
    this.scroller = listEl.closest("[data-scroll]") || listEl;
  }

  render(items) {
    const stick = this.isNearBottom();
    const seen = new Set();
    let previous = null;
    for (const item of items) {
      seen.add(item.key);
      let node = this.nodes.get(item.key);
      if (!node) {
        node = this._create(item);
        this.nodes.set(item.key, node);
      }
      this._update(node, item);
      const expectedPosition = previous ? previous.nextSibling : this.el.firstChild;
      if (node !== expectedPosition) this.el.insertBefore(node, expectedPosition);
      previous = node;
    }
    for (const [key, node] of this.nodes) {
      if (!seen.has(key)) {
        node.remove();
        this.nodes.delete(key);
      }
    }
    if (stick) this.scrollToBottom();
  }

  isNearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  _create(item) {
    const own = this.isOwn(item);
    const side = item.kind === "system" ? "system" : own ? "own" : "other";
    const body = h("div", { className: "msg__body" });
    renderText(body, item.body);
    const node = h("li", { className: `msg msg--${item.kind} msg--${side}` });
    if (item.kind !== "system") {
      const showAuthor = !own || this.showOwnAuthor;
      const meta = h(
        "div",
        { className: "msg__meta" },
        showAuthor && item.author
          ? h("span", { className: "msg__author", text: item.author })
          : null,
        h("time", { className: "msg__time" }),
      );
      node.append(meta);
    }
    node.append(body);
    if (own) node.append(h("div", { className: "msg__state", "aria-live": "polite" }));
    if (this.decorate) this.decorate(node, item);
    return node;
  }

  _update(node, item) {
    if (item.seq != null) node.dataset.seq = item.seq;
    else delete node.dataset.seq;
    node.dataset.state = item.state;
    const time = node.querySelector(".msg__time");
    if (time && item.created_at) {
      time.dateTime = item.created_at;
      time.textContent = formatClock(item.created_at);
    }
    const author = node.querySelector(".msg__author");
    if (author && item.author && author.textContent !== item.author)
      author.textContent = item.author;
    const state = node.querySelector(".msg__state");
    if (!state || state.dataset.shown === `${item.state}|${item.error || ""}`) return;
    state.dataset.shown = `${item.state}|${item.error || ""}`;
    state.replaceChildren();
    if (item.state === "sending") {
      state.append(
        h("span", { className: "msg__clock", "aria-hidden": "true", text: "◷" }),
        " Sending…",
      );
    } else if (item.state === "sent") {
      state.append(
        h("span", { className: "msg__tick", "aria-hidden": "true", text: "✓" }),
        " Sent",
      );
    } else if (item.state === "failed") {
      state.append(
        h("span", { className: "msg__error", text: `Not sent: ${item.error || "unknown error"}` }),
        " ",
        h("button", {
          type: "button",
          className: "btn btn-link btn-sm p-0 align-baseline",
          text: "Retry",
          onclick: () => this.onRetry && this.onRetry(item.client_msg_id),
        }),
        " · ",
        h("button", {
          type: "button",
          className: "btn btn-link btn-sm p-0 align-baseline",
          text: "Discard",
          onclick: () => this.onDiscard && this.onDiscard(item.client_msg_id),
        }),
      );
    }
  }
}

/** Show a socket's state in a banner: nothing while connected. */
export function bindConnectionBanner(client, banner, { onStopped } = {}) {
  const text = banner.querySelector("[data-banner-text]") || banner;
  let slowTimer = null;
  const show = (message, tone) => {
    text.textContent = message;
    banner.dataset.tone = tone;
    banner.hidden = false;
  };
  client.addEventListener("state", (event) => {
    const { state, reason } = event.detail;
    clearTimeout(slowTimer);
    if (state === "open") {
      banner.hidden = true;
    } else if (state === "connecting") {
      // Only say so if it takes a while: a fast connect should not flash a banner.
      slowTimer = setTimeout(() => show("Connecting…", "info"), 1500);
    } else if (state === "reconnecting") {
      show("Connection lost. Reconnecting…", "warning");
    } else if (state === "stopped") {
      if (reason) show(reason, "danger");
      else banner.hidden = true;
      if (onStopped) onStopped(reason);
    }
  });
}

/** A modal yes/no question on a native <dialog>; resolves true when confirmed. */
export function confirmDialog({
  title,
  body,
  confirmLabel,
  cancelLabel = "Cancel",
  danger = true,
}) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const confirmBtn = h("button", {
      type: "submit",
      value: "yes",
      className: `btn ${danger ? "btn-danger" : "btn-primary"}`,
      text: confirmLabel,
    });
    const cancelBtn = h("button", {
      type: "submit",
      value: "no",
      className: "btn btn-outline-secondary",
      text: cancelLabel,
    });
    const dialog = h(
      "dialog",
      { className: "hd-dialog", "aria-labelledby": titleId },
      h(
        "form",
        { method: "dialog" },
        h("h2", { className: "h5 mb-2", id: titleId, text: title }),
        body ? h("p", { className: "mb-3", text: body }) : null,
        h("div", { className: "d-flex gap-2 justify-content-end" }, cancelBtn, confirmBtn),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "yes");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelBtn.focus();
  });
}
