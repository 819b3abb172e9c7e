/**
 * Transfers in the console (docs/protocol.md, "Transfers and escalation"):
 *   - a Transfer button on each of the agent's own panes, opening a dialog: a colleague (with
 *     their load and whether they handle the topic), a topic's queue, or a senior; a required
 *     note;
 *   - the sender's bar on the pane: "Waiting for Bruno to accept…" with Cancel, then the result
 *     (declined / expired / cancelled, with the reason; accepted turns the pane read-only, which
 *     the console does by itself when the chat frame says the chat is someone else's);
 *   - the receiver's request cards (sound, notification, countdown, Accept / Decline + reason);
 *   - the latest transfer's note pinned at the top of a pane, dismissible per chat.
 *
 * Notes, reasons and names come from the network: they are put in the page as text only.
 * Frames may arrive twice (the sending socket gets its answer directly and through its agent's
 * group): everything here is applied by id and idempotent.
 */
import { formatClock, formatDuration, h } from "./ui.js";

const NOTE_MAX = 1000;
const REASON_MAX = 200;
const DISMISSED_KEY = "helpdesk.console.dismissedNotes";
// A card whose countdown ran out goes away after this, if the server has not said so first.
const EXPIRED_CARD_MS = 4000;
// Errors to an answer that leave the request open: the receiver may try again.
const RETRY_CODES = new Set(["invalid_frame", "reason_too_long", "reason_invalid", "rate_limited"]);

const STATUS_TEXT = {
  declined: "declined the transfer",
  expired: "did not answer in time",
  cancelled: "The transfer was cancelled",
};

/**
 * Hooks the console calls: onFrame(frame) -> handled?, onError(frame) -> handled?,
 * onChat(chat) after a chat frame was applied, decorate(chat, pane) when a pane is built,
 * update(chat) when it is refreshed.
 */
export function createTransfers({
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
  repeatMs,
}) {
  const ui = {
    section: document.getElementById("requests-section"),
    list: document.getElementById("requests-list"),
    count: document.getElementById("requests-count"),
  };
  /** chat id -> my pending transfer frame (as its sender) */
  const outgoing = new Map();
  /** chat id -> {status, reason, name}: how my last request for it ended (not accepted) */
  const results = new Map();
  /** transfer id -> {frame, card, parts, busy, expiredAt} : requests to me */
  const incoming = new Map();
  /** chat id -> what we wait an answer for: "targets" | "transfer" | "cancel" | "reply" */
  const awaiting = new Map();
  /** transfer ids whose end was already shown (frames may repeat) */
  const ended = new Set();
  /** chat id -> notice, for chats I passed to a topic's queue */
  const handedOff = new Map();
  let dialog = null;
  let openWhenMine = null;
  const dismissed = loadDismissed();

  // --- Small helpers ---------------------------------------------------------------------------

  function loadDismissed() {
    try {
      return JSON.parse(sessionStorage.getItem(DISMISSED_KEY)) || {};
    } catch {
      return {};
    }
  }

  function saveDismissed() {
    try {
      sessionStorage.setItem(DISMISSED_KEY, JSON.stringify(dismissed));
    } catch {
      /* storage blocked: dismissals last for this page */
    }
  }

  function remaining(iso) {
    return iso ? (Date.parse(iso) - serverNow()) / 1000 : 0;
  }

  function personName(person, fallback = "A colleague") {
    return person && typeof person.name === "string" ? person.name : fallback;
  }

  function notify(title, body, tag) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      const note = new Notification(title, { body, tag });
      note.onclick = () => {
        window.focus();
        note.close();
        ui.list.querySelector("button")?.focus();
      };
    } catch {
      /* some browsers only notify from a service worker: the sound and the card remain */
    }
  }

  function send(type, chatId, extra) {
    const sent = client.send(type, chatId, extra);
    if (sent) awaiting.set(chatId, type === "transfer_targets" ? "targets" : type);
    return sent;
  }

  function paneOf(chatId) {
    return chats.get(chatId)?.pane || null;
  }

  function update(chat) {
    if (chat?.pane?.transfer) updatePane(chat);
  }

  function updateById(chatId) {
    const chat = chats.get(chatId);
    if (chat) {
      refresh(chat);
      renderSidebar();
    }
  }

  // --- The pane: button, count, sender's bar, pinned note --------------------------------------

  function decorate(chat, pane) {
    const id = chat.id;
    const button = h("button", {
      type: "button",
      className: "btn btn-outline-primary btn-sm pane__transfer-btn",
      text: "Transfer",
      "aria-haspopup": "dialog",
      onclick: () => openDialog(id),
    });
    pane.closeBtn.before(button);
    const count = h("span", {
      className: "pane__transfers",
      title: "How many times this chat changed hands",
      hidden: true,
    });
    pane.waited.after(count);
    const barText = h("span", { className: "pane__transfer-text" });
    const barTimer = h("span", { className: "pane__transfer-timer", role: "timer" });
    const barCancel = h("button", {
      type: "button",
      className: "btn btn-sm btn-outline-secondary",
      text: "Cancel transfer",
      onclick: () => cancelTransfer(id),
    });
    const barDismiss = h("button", {
      type: "button",
      className: "btn btn-sm btn-outline-secondary",
      text: "Dismiss",
      onclick: () => {
        results.delete(id);
        updateById(id);
        pane.input.focus();
      },
    });
    const bar = h(
      "div",
      { className: "pane__transfer", role: "status", hidden: true },
      barText,
      barTimer,
      barCancel,
      barDismiss,
    );
    pane.notice.after(bar);
    const pinnedWho = h("p", { className: "pane__pinned-who" });
    const pinnedNote = h("p", { className: "pane__pinned-note" });
    const pinned = h(
      "aside",
      { className: "pane__pinned", "aria-label": "Transfer note", hidden: true },
      h("div", { className: "pane__pinned-body" }, pinnedWho, pinnedNote),
      h("button", {
        type: "button",
        className: "btn-close pane__pinned-close",
        "aria-label": "Dismiss the transfer note",
        onclick: () => dismissNote(id),
      }),
    );
    bar.after(pinned);
    pane.transfer = { button, count, bar, barText, barTimer, barCancel, barDismiss, pinned };
    pane.transfer.pinnedWho = pinnedWho;
    pane.transfer.pinnedNote = pinnedNote;
  }

  function noteKey(chat) {
    const t = chat.frame.transfer;
    return t ? `${t.at || ""}|${t.by ? t.by.id : ""}` : "";
  }

  function dismissNote(chatId) {
    const chat = chats.get(chatId);
    if (!chat) return;
    dismissed[chatId] = noteKey(chat);
    saveDismissed();
    updateById(chatId);
    chat.pane?.input.focus();
  }

  function updatePane(chat) {
    const t = chat.pane.transfer;
    const f = chat.frame;
    const mine = chat.section === "mine";
    const pending = mine ? outgoing.get(chat.id) : null;
    t.button.hidden = !mine || Boolean(pending);

    const n = Number(f.transfer_count) || 0;
    t.count.hidden = n === 0;
    t.count.textContent = n === 1 ? "transferred once" : `transferred ${n}×`;

    const result = mine ? results.get(chat.id) : null;
    if (pending) {
      const who = personName(pending.to_agent, "your colleague");
      t.barText.textContent =
        pending.kind === "senior"
          ? `Escalated: waiting for ${who} to accept…`
          : `Waiting for ${who} to accept…`;
      t.bar.dataset.tone = "info";
      t.barCancel.hidden = false;
      t.barDismiss.hidden = true;
      t.barTimer.hidden = false;
      updateBarTimer(chat);
    } else if (result) {
      t.barText.textContent = resultText(result);
      t.bar.dataset.tone = "warning";
      t.barCancel.hidden = true;
      t.barDismiss.hidden = false;
      t.barTimer.hidden = true;
    }
    t.bar.hidden = !(pending || result);

    const note = f.transfer;
    const show =
      note &&
      typeof note.note === "string" &&
      (mine || chat.section === "queue") &&
      !(note.by && note.by.id === me.id) &&
      dismissed[chat.id] !== noteKey(chat);
    t.pinned.hidden = !show;
    if (show) {
      const when = formatClock(note.at);
      t.pinnedWho.textContent = `Note from ${personName(note.by)}${when ? `, ${when}` : ""}:`;
      t.pinnedNote.textContent = note.note;
    }
  }

  function resultText(result) {
    const reason = result.reason ? `: ${result.reason}` : ".";
    if (result.status === "cancelled") return `${STATUS_TEXT.cancelled}${reason}`;
    const what = STATUS_TEXT[result.status] || result.status;
    return `${result.name} ${what}${reason} The chat stays with you.`;
  }

  function updateBarTimer(chat) {
    const pending = outgoing.get(chat.id);
    const t = chat.pane?.transfer;
    if (!pending || !t) return;
    const left = remaining(pending.expires_at);
    t.barTimer.textContent = left > 0 ? `${formatDuration(left)} left` : "time is up";
  }

  // --- The dialog ------------------------------------------------------------------------------

  function openDialog(chatId) {
    const chat = chats.get(chatId);
    if (!chat || chat.section !== "mine" || dialog) return;
    const uid = `transfer-${chatId}`;
    const choices = [
      ["agent", "A colleague"],
      ["topic", "A topic's queue"],
      ["senior", "Escalate to a senior"],
    ];
    const choiceInputs = choices.map(([value], index) =>
      h("input", {
        type: "radio",
        name: `${uid}-kind`,
        value,
        id: `${uid}-kind-${value}`,
        className: "form-check-input",
        checked: index === 0,
      }),
    );
    const kindField = h(
      "fieldset",
      { className: "transfer-dialog__kinds" },
      h("legend", { className: "transfer-dialog__legend", text: "Transfer to" }),
      ...choices.map(([value, label], index) =>
        h(
          "div",
          { className: "form-check form-check-inline" },
          choiceInputs[index],
          h("label", { className: "form-check-label", for: `${uid}-kind-${value}`, text: label }),
        ),
      ),
    );
    const agentList = h("div", { className: "transfer-dialog__agents", role: "radiogroup" });
    agentList.setAttribute("aria-labelledby", `${uid}-agents-label`);
    const agentPanel = h(
      "div",
      { className: "transfer-dialog__panel", dataset: { panel: "agent" } },
      h("p", { className: "transfer-dialog__label", id: `${uid}-agents-label`, text: "Colleague" }),
      agentList,
    );
    const topicSelect = h("select", { className: "form-select", id: `${uid}-topic` });
    const topicPanel = h(
      "div",
      { className: "transfer-dialog__panel", dataset: { panel: "topic" }, hidden: true },
      h("label", { className: "transfer-dialog__label", for: `${uid}-topic`, text: "Topic" }),
      topicSelect,
      h("p", {
        className: "transfer-dialog__hint",
        text:
          "The chat goes to the front of that topic's queue; " +
          "whoever takes it reads your note first.",
      }),
    );
    const seniorText = h("p", { className: "transfer-dialog__hint" });
    const seniorPanel = h(
      "div",
      { className: "transfer-dialog__panel", dataset: { panel: "senior" }, hidden: true },
      seniorText,
    );
    const note = h("textarea", {
      className: "form-control transfer-dialog__note",
      id: `${uid}-note`,
      rows: "4",
      maxlength: String(NOTE_MAX),
      required: true,
      "aria-describedby": `${uid}-counter`,
      placeholder: "What the customer needs, what you already did…",
    });
    const counter = h("span", { className: "hd-counter", id: `${uid}-counter` });
    const error = h("div", { className: "transfer-dialog__error", role: "alert", hidden: true });
    const sendBtn = h("button", { type: "submit", className: "btn btn-primary", text: "Send" });
    const cancelBtn = h("button", {
      type: "button",
      className: "btn btn-outline-secondary",
      text: "Cancel",
      onclick: () => el.close(),
    });
    const form = h(
      "form",
      { method: "dialog", novalidate: true },
      h("h2", {
        className: "h5 mb-1",
        id: `${uid}-title`,
        text: `Transfer the chat with ${chat.frame.customer.name}`,
      }),
      h("p", { className: "transfer-dialog__sub", text: chat.frame.topic.name }),
      kindField,
      agentPanel,
      topicPanel,
      seniorPanel,
      h(
        "label",
        { className: "transfer-dialog__label", for: `${uid}-note` },
        "Note for the receiver ",
        h("span", { className: "transfer-dialog__required", text: "(required)" }),
      ),
      note,
      h("div", { className: "transfer-dialog__counter" }, counter),
      error,
      h("div", { className: "d-flex gap-2 justify-content-end mt-2" }, cancelBtn, sendBtn),
    );
    const el = h(
      "dialog",
      { className: "hd-dialog transfer-dialog", "aria-labelledby": `${uid}-title` },
      form,
    );
    dialog = {
      chatId,
      el,
      kind: () => choiceInputs.find((input) => input.checked)?.value || "agent",
      agentList,
      topicSelect,
      seniorText,
      note,
      error,
      sendBtn,
      targets: null,
      panels: { agent: agentPanel, topic: topicPanel, senior: seniorPanel },
    };
    const countNote = () => {
      counter.textContent = `${note.value.length} / ${NOTE_MAX}`;
      counter.classList.toggle("is-near", note.value.length > NOTE_MAX * 0.9);
    };
    note.addEventListener("input", () => {
      countNote();
      if (!error.hidden && note.value.trim()) error.hidden = true;
    });
    countNote();
    for (const input of choiceInputs) input.addEventListener("change", () => showPanel());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitDialog();
    });
    el.addEventListener("close", () => {
      awaiting.delete(chatId);
      el.remove();
      dialog = null;
      paneOf(chatId)?.transfer?.button.focus();
    });
    document.body.append(el);
    renderTargets();
    showPanel();
    el.showModal();
    choiceInputs[0].focus();
    if (!send("transfer_targets", chatId)) {
      showError("You are offline. Try again once reconnected.");
    }
  }

  function showPanel() {
    if (!dialog) return;
    const kind = dialog.kind();
    for (const [name, panel] of Object.entries(dialog.panels)) panel.hidden = name !== kind;
    dialog.sendBtn.textContent = kind === "senior" ? "Escalate" : "Send";
    syncSend();
  }

  function syncSend() {
    if (!dialog || dialog.busy) return;
    const kind = dialog.kind();
    const t = dialog.targets;
    dialog.sendBtn.disabled =
      (kind === "agent" && !dialog.agentList.querySelector("input:checked")) ||
      (kind === "topic" && !dialog.topicSelect.value) ||
      (kind === "senior" && t != null && !t.seniors_available);
  }

  function showError(text) {
    if (!dialog) return;
    dialog.error.textContent = text;
    dialog.error.hidden = false;
  }

  function renderTargets() {
    const d = dialog;
    const t = d.targets;
    const chat = chats.get(d.chatId);
    const topicName = chat ? chat.frame.topic.name : "this topic";
    d.agentList.replaceChildren();
    if (!t) {
      d.agentList.append(
        h("p", { className: "transfer-dialog__hint", text: "Loading colleagues…" }),
      );
    } else if (!t.agents.length) {
      d.agentList.append(
        h("p", { className: "transfer-dialog__hint", text: "No colleague is online right now." }),
      );
    } else {
      for (const agent of t.agents) {
        const inputId = `transfer-${d.chatId}-agent-${agent.id}`;
        const full = agent.open_chats >= agent.max_chats;
        const meta = [
          `${agent.open_chats} of ${agent.max_chats} chats`,
          agent.handles_topic ? `handles ${topicName}` : `does not handle ${topicName}`,
        ];
        if (agent.seniority === "senior") meta.push("senior");
        if (full) meta.push("full");
        d.agentList.append(
          h(
            "div",
            { className: `form-check transfer-dialog__agent${full ? " is-full" : ""}` },
            h("input", {
              type: "radio",
              className: "form-check-input",
              name: `transfer-${d.chatId}-agent`,
              value: String(agent.id),
              id: inputId,
              disabled: full,
              onchange: syncSend,
            }),
            h(
              "label",
              { className: "form-check-label", for: inputId },
              h("span", { className: "transfer-dialog__agent-name", text: agent.name }),
              h("span", { className: "transfer-dialog__agent-meta", text: meta.join(" · ") }),
            ),
          ),
        );
      }
    }
    d.topicSelect.replaceChildren();
    const topics = t ? t.topics : [];
    const current = chat ? chat.frame.topic.slug : "";
    for (const topic of topics) {
      const n = topic.agents_available;
      const people = n === 1 ? "1 colleague online" : `${n} colleagues online`;
      const own = topic.slug === current ? " (this chat's topic)" : "";
      d.topicSelect.append(
        h("option", { value: topic.slug, text: `${topic.name}${own} — ${people}` }),
      );
    }
    const other = topics.find((topic) => topic.slug !== current);
    if (other) d.topicSelect.value = other.slug;
    if (!t) {
      d.seniorText.textContent = "Looking for seniors…";
    } else if (t.seniors_available) {
      d.seniorText.textContent =
        `The least busy senior online who handles ${topicName} will be asked to accept ` +
        `(${t.seniors_available} available).`;
    } else {
      d.seniorText.textContent = `No senior who handles ${topicName} is online with room now.`;
    }
    syncSend();
  }

  function submitDialog() {
    const d = dialog;
    if (!d || d.busy) return;
    d.error.hidden = true;
    const note = d.note.value;
    if (!note.trim()) {
      showError("Write a note for whoever receives the chat: they read it first.");
      d.note.focus();
      return;
    }
    if (note.length > NOTE_MAX) {
      showError(`A note is limited to ${NOTE_MAX} characters.`);
      return;
    }
    const kind = d.kind();
    let to;
    if (kind === "agent") {
      const picked = d.agentList.querySelector("input:checked");
      if (!picked) {
        showError("Choose a colleague.");
        return;
      }
      to = { agent: Number(picked.value) };
    } else if (kind === "topic") {
      to = { topic: d.topicSelect.value };
    } else {
      to = { senior: true };
    }
    if (!send("transfer", d.chatId, { to, note })) {
      showError("You are offline. Try again once reconnected.");
      return;
    }
    d.busy = true;
    d.sendBtn.disabled = true;
    d.sendBtn.textContent = "Sending…";
  }

  function dialogFailed(detail) {
    if (!dialog) return;
    dialog.busy = false;
    showError(detail);
    showPanel();
    // The list may be stale (someone went offline): ask again.
    send("transfer_targets", dialog.chatId);
  }

  // --- Sender: answers and results ---------------------------------------------------------------

  function onTransfer(frame) {
    const chatId = frame.chat;
    if (dialog && dialog.chatId === chatId) dialog.el.close();
    awaiting.delete(chatId);
    if (frame.status === "pending") {
      if (ended.has(frame.id)) return; // a late copy of a request already answered
      outgoing.set(chatId, frame);
      results.delete(chatId);
    } else if (frame.status === "completed" && frame.to_topic) {
      const chat = chats.get(chatId);
      const queue = frame.to_topic.name;
      const notice = `You passed this chat to the ${queue} queue: it is read-only for you.`;
      if (!handedOff.has(chatId) && chat) {
        toast(`${chat.frame.customer.name}'s chat is in the ${queue} queue.`, "info");
      }
      handedOff.set(chatId, notice);
      if (chat && chat.section !== "ended") {
        chat.takenAway = true;
        leave(chat, notice);
      }
    }
    updateById(chatId);
  }

  function onResult(frame) {
    const request = incoming.get(frame.id);
    if (request) {
      // Answered (here or in another tab of mine): the card goes.
      removeCard(frame.id);
      if (frame.status === "accepted" && frame.by && frame.by.id === me.id) {
        const chat = chats.get(frame.chat);
        if (chat && chat.section === "mine") select(frame.chat);
        else openWhenMine = frame.chat;
      }
    }
    if (awaiting.get(frame.chat) === "reply" || awaiting.get(frame.chat) === "cancel") {
      awaiting.delete(frame.chat);
    }
    const mine = outgoing.get(frame.chat);
    if (ended.has(frame.id)) return;
    ended.add(frame.id);
    if (mine && mine.id === frame.id) {
      outgoing.delete(frame.chat);
      if (frame.status !== "accepted") {
        results.set(frame.chat, {
          status: frame.status,
          reason: frame.reason,
          name: personName(frame.by, personName(mine.to_agent, "Your colleague")),
        });
        const chat = chats.get(frame.chat);
        if (chat && frame.status !== "cancelled") {
          toast(`${chat.frame.customer.name}: ${resultText(results.get(frame.chat))}`, "warning");
        }
      }
      updateById(frame.chat);
    }
  }

  function cancelTransfer(chatId) {
    const pending = outgoing.get(chatId);
    if (!pending) return;
    if (!send("transfer_cancel", chatId, { transfer: pending.id })) {
      toast("You are offline. Try again once reconnected.", "warning");
    }
  }

  // --- Receiver: request cards -------------------------------------------------------------------

  function onRequest(frame, { quiet = false } = {}) {
    if (incoming.has(frame.id) || ended.has(frame.id)) return;
    if (!frame.chat || typeof frame.chat !== "object") return;
    const parts = buildCard(frame);
    incoming.set(frame.id, { frame, ...parts, busy: false, expiredAt: 0 });
    ui.list.append(parts.card);
    updateCard(frame.id);
    syncSection();
    if (!quiet) {
      ring();
      const who = personName(frame.from);
      const title =
        frame.kind === "senior"
          ? `${who} escalates a chat to you`
          : `${who} asks you to take a chat`;
      const body = `${frame.chat.customer.name} · ${frame.note.slice(0, 140)}`;
      notify(title, body, `helpdesk-transfer-${frame.id}`);
    }
  }

  function buildCard(frame) {
    const id = frame.id;
    const chat = frame.chat;
    const who = personName(frame.from);
    const titleId = `transfer-card-${id}`;
    const reasonId = `transfer-reason-${id}`;
    const timer = h("p", { className: "transfer-card__timer", role: "timer" });
    const reason = h("input", {
      type: "text",
      className: "form-control form-control-sm",
      id: reasonId,
      maxlength: String(REASON_MAX),
      placeholder: "Reason (optional)",
      autocomplete: "off",
    });
    const accept = h("button", {
      type: "button",
      className: "btn btn-sm btn-primary",
      text: "Accept",
      onclick: () => reply(id, true),
    });
    const decline = h("button", {
      type: "button",
      className: "btn btn-sm btn-outline-secondary",
      text: "Decline",
      onclick: () => reply(id, false),
    });
    const error = h("p", { className: "transfer-card__error", role: "alert", hidden: true });
    const card = h(
      "li",
      {
        className: "transfer-card",
        dataset: { transferId: id, chatId: chat.id, kind: frame.kind },
        role: "group",
        "aria-labelledby": titleId,
      },
      h("p", {
        className: "transfer-card__title",
        id: titleId,
        text:
          frame.kind === "senior"
            ? `${who} escalates ${chat.customer.name}'s chat to you`
            : `${who} asks you to take ${chat.customer.name}'s chat`,
      }),
      h("p", { className: "transfer-card__topic", text: chat.topic ? chat.topic.name : "" }),
      chat.preview ? h("p", { className: "transfer-card__preview", text: chat.preview }) : null,
      h(
        "blockquote",
        { className: "transfer-card__note" },
        h("span", { className: "visually-hidden", text: "Note: " }),
        frame.note,
      ),
      timer,
      h(
        "div",
        { className: "transfer-card__decline" },
        h("label", {
          className: "visually-hidden",
          for: reasonId,
          text: "Reason to decline (optional)",
        }),
        reason,
      ),
      h("div", { className: "transfer-card__actions" }, accept, decline),
      error,
    );
    return { card, timer, reason, accept, decline, error };
  }

  function updateCard(id) {
    const request = incoming.get(id);
    if (!request) return;
    const left = remaining(request.frame.expires_at);
    if (left > 0) {
      request.timer.textContent = `Answer within ${formatDuration(left)}`;
    } else {
      request.timer.textContent = "Time is up";
      request.expiredAt = request.expiredAt || Date.now();
      if (Date.now() - request.expiredAt > EXPIRED_CARD_MS) {
        ended.add(id);
        removeCard(id);
        return;
      }
    }
    const locked = request.busy || left <= 0;
    request.accept.disabled = locked;
    request.decline.disabled = locked;
    request.reason.disabled = locked;
  }

  function reply(id, accept) {
    const request = incoming.get(id);
    if (!request || request.busy) return;
    const reason = accept ? "" : request.reason.value.trim();
    const frame = { transfer: id, accept };
    if (reason) frame.reason = reason.slice(0, REASON_MAX);
    if (!send("transfer_reply", request.frame.chat.id, frame)) {
      showCardError(id, "You are offline. Try again once reconnected.");
      return;
    }
    request.busy = true;
    request.error.hidden = true;
    (accept ? request.accept : request.decline).textContent = accept ? "Accepting…" : "Declining…";
    updateCard(id);
  }

  function showCardError(id, text) {
    const request = incoming.get(id);
    if (!request) return;
    request.busy = false;
    request.accept.textContent = "Accept";
    request.decline.textContent = "Decline";
    request.error.textContent = text;
    request.error.hidden = false;
    updateCard(id);
  }

  function removeCard(id) {
    const request = incoming.get(id);
    if (!request) return;
    const hadFocus = request.card.contains(document.activeElement);
    request.card.remove();
    incoming.delete(id);
    syncSection();
    if (hadFocus) ui.list.querySelector("button:not([disabled])")?.focus();
  }

  function syncSection() {
    ui.section.hidden = incoming.size === 0;
    ui.count.textContent = String(incoming.size);
  }

  function onWithdrawn(frame) {
    const request = incoming.get(frame.id);
    ended.add(frame.id);
    if (!request) return;
    removeCard(frame.id);
    const who = personName(request.frame.from);
    const name = request.frame.chat.customer.name;
    toast(
      frame.status === "expired"
        ? `The transfer of ${name}'s chat from ${who} expired.`
        : `${who}'s transfer of ${name}'s chat was withdrawn` +
            (frame.reason ? `: ${frame.reason}` : "."),
      "warning",
    );
  }

  function onList(frame) {
    // What is open now, after a (re)connection: it replaces what was known.
    const sent = Array.isArray(frame.sent) ? frame.sent : [];
    const received = Array.isArray(frame.received) ? frame.received : [];
    outgoing.clear();
    for (const transfer of sent) outgoing.set(transfer.chat, transfer);
    const open = new Set(received.map((request) => request.id));
    for (const id of Array.from(incoming.keys())) if (!open.has(id)) removeCard(id);
    for (const request of received) onRequest(request, { quiet: incoming.size > 0 });
    for (const chat of chats.values()) update(chat);
  }

  // --- Errors ------------------------------------------------------------------------------------

  function onError(frame) {
    const chatId = frame.chat;
    if (chatId == null || !awaiting.has(chatId)) return false;
    const what = awaiting.get(chatId);
    awaiting.delete(chatId);
    const detail = frame.detail || frame.code;
    if (what === "targets" || what === "transfer") {
      if (dialog && dialog.chatId === chatId) {
        if (what === "transfer") dialogFailed(detail);
        else showError(detail);
      } else {
        toast(detail);
      }
    } else if (what === "reply") {
      const request = Array.from(incoming.values()).find((r) => r.frame.chat.id === chatId);
      if (!request) {
        toast(detail);
      } else if (RETRY_CODES.has(frame.code)) {
        showCardError(request.frame.id, detail);
      } else {
        // The request is over (full, chat moved on, answered elsewhere, expired).
        ended.add(request.frame.id);
        removeCard(request.frame.id);
        toast(detail, "warning");
      }
    } else {
      toast(detail);
    }
    return true;
  }

  // --- Wiring ----------------------------------------------------------------------------------

  function onFrame(frame) {
    switch (frame.type) {
      case "transfer_targets":
        if (dialog && dialog.chatId === frame.chat) {
          if (awaiting.get(frame.chat) === "targets") awaiting.delete(frame.chat);
          dialog.targets = frame;
          renderTargets();
        }
        return true;
      case "transfer":
        onTransfer(frame);
        return true;
      case "transfer_request":
        onRequest(frame);
        return true;
      case "transfer_result":
        onResult(frame);
        return true;
      case "transfer_cancelled":
        onWithdrawn(frame);
        return true;
      case "transfers":
        onList(frame);
        return true;
      default:
        return false;
    }
  }

  /** After a chat frame was applied by the console. */
  function onChat(chat) {
    if (!chat) return;
    if (chat.section === "mine") handedOff.delete(chat.id);
    else if (chat.section === "queue" && handedOff.has(chat.id)) {
      chat.takenAway = true;
      leave(chat, handedOff.get(chat.id));
      refresh(chat);
      renderSidebar();
    }
    if (chat.section !== "mine" && outgoing.has(chat.id) && chat.frame.status !== "active") {
      outgoing.delete(chat.id);
    }
    if (openWhenMine === chat.id && chat.section === "mine") {
      openWhenMine = null;
      select(chat.id);
    }
  }

  client.addEventListener("state", (event) => {
    if (event.detail.state === "open") client.connection.send({ type: "transfers" });
  });
  setInterval(() => {
    for (const id of Array.from(incoming.keys())) updateCard(id);
    for (const chatId of outgoing.keys()) {
      const chat = chats.get(chatId);
      if (chat) updateBarTimer(chat);
    }
  }, 1000);
  setInterval(() => {
    if (Array.from(incoming.values()).some((request) => !request.busy)) ring();
  }, repeatMs);

  return { onFrame, onError, onChat, decorate, update };
}
