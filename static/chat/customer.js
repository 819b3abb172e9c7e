/**
 * The customer's chat: pre-chat form, then the conversation over the customer socket.
 * Also the page inside the widget's iframe (?embed=1), which talks to widget.js by postMessage.
 * Outside a topic's business hours the pre-chat form leaves a message (a ticket) instead, and
 * a queued customer may be offered to leave one rather than wait (routing's `queue` frame).
 * After the chat ends the customer may rate it (transcripts' `rate` / `rating` frames), and an
 * email link `/chat/#token=<token>` reopens a chat like a stored one.
 */
import { ChatClient } from "./socket.js";
import { MessageList, bindConnectionBanner, confirmDialog } from "./ui.js";
import { createCustomerBot } from "./bot.js";

const STORAGE_KEY = "helpdesk.chat";
const MAX_LENGTH = 4000;
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 5000;

const $ = (id) => document.getElementById(id);
const root = $("customer-chat");
const embedded = root.classList.contains("cw--embed");
const ui = {
  status: $("cw-status"),
  endButton: $("cw-end"),
  banner: $("cw-banner"),
  queue: $("cw-queue"),
  prechat: $("cw-prechat"),
  form: $("cw-form"),
  formError: $("cw-form-error"),
  start: $("cw-start"),
  email: $("cw-email"),
  transcript: $("cw-consent-transcript"),
  marketing: $("cw-consent-marketing"),
  conversation: $("cw-conversation"),
  messages: $("cw-messages"),
  typing: $("cw-typing"),
  composer: $("cw-composer"),
  input: $("cw-input"),
  counter: $("cw-counter"),
  composerError: $("cw-composer-error"),
  ended: $("cw-ended"),
  endedTitle: $("cw-ended-title"),
  endedText: $("cw-ended-text"),
  newChat: $("cw-new"),
  endedReferenceLine: $("cw-ended-reference-line"),
  endedReference: $("cw-ended-reference"),
  prechatTitle: $("cw-prechat-title"),
  prechatIntro: $("cw-prechat-intro"),
  emailOptional: $("cw-email-optional"),
  emailHint: $("cw-email-hint"),
  messageLabel: $("cw-message-label"),
  consents: $("cw-consents"),
  sent: $("cw-sent"),
  sentText: $("cw-sent-text"),
  sentReference: $("cw-sent-reference"),
  sentBack: $("cw-sent-back"),
  offer: $("cw-offer"),
  offerOpen: $("cw-offer-open"),
  offerForm: $("cw-offer-form"),
  offerError: $("cw-offer-error"),
  offerEmail: $("cw-offer-email"),
  offerBody: $("cw-offer-body"),
  offerSend: $("cw-offer-send"),
  offerCancel: $("cw-offer-cancel"),
  refused: $("cw-refused"),
  refusedText: $("cw-refused-text"),
  rate: $("cw-rate"),
  rateComment: $("cw-rate-comment"),
  rateSend: $("cw-rate-send"),
  rateError: $("cw-rate-error"),
  rated: $("cw-rated"),
  ratedText: $("cw-rated-text"),
  rateEdit: $("cw-rate-edit"),
};

// --- Storage: a reload or a second tab finds the same conversation ---------------------------

const memoryStore = new Map();
const store = {
  get(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return memoryStore.get(key) ?? null; // storage blocked (e.g. third-party iframe)
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch {
      memoryStore.set(key, value);
    }
  },
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      memoryStore.delete(key);
    }
  },
};

// A random id this browser keeps and sends with every chat or message it starts, so an agent
// can block a browser and not only an email (docs/protocol.md). Made once; kept in memory
// where storage is blocked.
const BROWSER_KEY = "helpdesk.browser";
const BROWSER_KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

function browserKey() {
  let key = store.get(BROWSER_KEY);
  if (!key || !BROWSER_KEY_PATTERN.test(key)) {
    key = newBrowserKey();
    store.set(BROWSER_KEY, key);
  }
  return key;
}

function newBrowserKey() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // randomUUID needs a secure context (https or localhost); getRandomValues does not.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function loadChat() {
  try {
    const value = JSON.parse(store.get(STORAGE_KEY));
    if (
      value &&
      typeof value.token === "string" &&
      typeof value.ws_url === "string" &&
      Number.isInteger(value.id)
    ) {
      return value;
    }
  } catch {
    /* nothing stored, or garbage */
  }
  return null;
}

const outboxKey = (chatId) => `helpdesk.outbox.${chatId}`;

function loadOutbox(chatId) {
  try {
    const items = JSON.parse(store.get(outboxKey(chatId)));
    return Array.isArray(items) ? items : [];
  } catch {
    return [];
  }
}

// --- Talking to the widget around the iframe -------------------------------------------------

function tellParent(type) {
  if (embedded && window.parent !== window) {
    // Nothing secret travels: only "close me" and "a message arrived".
    window.parent.postMessage({ source: "helpdesk-chat", type }, "*");
  }
}

window.addEventListener("message", (event) => {
  if (event.source !== window.parent || !event.data || event.data.source !== "helpdesk-widget")
    return;
  if (event.data.type === "focus") focusFirst();
});

document.addEventListener("keydown", (event) => {
  if (
    event.key === "Escape" &&
    embedded &&
    !event.defaultPrevented &&
    !document.querySelector("dialog[open]")
  ) {
    tellParent("close");
  }
});

function focusFirst() {
  if (!ui.conversation.hidden && !ui.composer.hidden) ui.input.focus();
  else if (!ui.conversation.hidden && !ui.ended.hidden) ui.newChat.focus();
  else if (ui.form) ui.form.querySelector("input, select, textarea")?.focus();
}

// --- Pre-chat form ----------------------------------------------------------------------------

let transcriptTouched = false;

// The texts of the chat mode, as the page was rendered; the message mode swaps them.
const chatTexts = ui.form && {
  title: ui.prechatTitle.textContent,
  intro: ui.prechatIntro.textContent,
  emailHint: ui.emailHint.textContent,
  messageLabel: ui.messageLabel.textContent,
};

// "Mon 9 Mar, 09:00" in the customer's own time zone and language.
const openingFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
});

function formatOpening(iso) {
  const date = iso ? new Date(iso) : null;
  return date && !Number.isNaN(date.getTime()) ? openingFormat.format(date) : "";
}

function topicOptions() {
  return ui.form ? Array.from(ui.form.elements.topic.options).filter((o) => o.value) : [];
}

/** Closed topics read "Returns — Closed — opens Mon 9 Mar, 09:00" (text only). */
function labelTopic(option) {
  const name = option.dataset.name || option.value;
  if (!("closed" in option.dataset)) {
    option.textContent = name;
    return;
  }
  const opens = formatOpening(option.dataset.opensAt);
  option.textContent = opens ? `${name} — Closed — opens ${opens}` : `${name} — Closed`;
}

function setTopicState(option, openNow, opensAt) {
  if (openNow) {
    delete option.dataset.closed;
    delete option.dataset.opensAt;
  } else {
    option.dataset.closed = "";
    option.dataset.opensAt = opensAt || "";
  }
  labelTopic(option);
}

function selectedClosedTopic() {
  const option = ui.form && ui.form.elements.topic.selectedOptions[0];
  return option && option.value && "closed" in option.dataset ? option : null;
}

function messageMode() {
  return Boolean(ui.form && ui.form.dataset.mode === "message");
}

/** A closed topic turns the pre-chat form into "Leave us a message" (email required). */
function syncMode() {
  if (!ui.form) return;
  const closed = selectedClosedTopic();
  ui.form.dataset.mode = closed ? "message" : "chat";
  ui.prechatTitle.textContent = closed ? "Leave us a message" : chatTexts.title;
  if (closed) {
    const opens = formatOpening(closed.dataset.opensAt);
    ui.prechatIntro.textContent =
      `${closed.dataset.name || closed.value} is closed right now` +
      (opens ? ` (we open ${opens})` : "") +
      ". Leave us a message and we will answer you by email.";
  } else {
    ui.prechatIntro.textContent = chatTexts.intro;
  }
  ui.emailOptional.hidden = Boolean(closed);
  ui.email.required = Boolean(closed);
  ui.emailHint.textContent = closed ? "We will answer you at this address." : chatTexts.emailHint;
  ui.messageLabel.textContent = closed ? "Your message" : chatTexts.messageLabel;
  ui.consents.hidden = Boolean(closed);
  ui.start.textContent = closed ? "Send message" : "Start chat";
}

/** Topics open and close while the page stays open: ask again when the form is shown. */
async function refreshTopics() {
  if (!ui.form) return;
  try {
    const response = await fetch(root.dataset.topicsUrl, {
      credentials: "omit",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const topics = await response.json();
    if (!Array.isArray(topics)) return;
    const bySlug = new Map(topics.map((t) => [t.slug, t]));
    for (const option of topicOptions()) {
      const topic = bySlug.get(option.value);
      if (topic) setTopicState(option, topic.open_now !== false, topic.opens_at);
    }
    syncMode();
  } catch {
    /* offline: the page's own rendering stands */
  }
}

function syncConsents() {
  const hasEmail = ui.email.value.trim() !== "";
  ui.transcript.disabled = !hasEmail;
  ui.marketing.disabled = !hasEmail;
  document.getElementById("cw-consent-hint").hidden = hasEmail;
  if (!hasEmail) {
    ui.transcript.checked = false;
    ui.marketing.checked = false;
    transcriptTouched = false;
  } else if (!transcriptTouched) {
    ui.transcript.checked = true;
  }
}

function setFieldError(name, message) {
  const field = ui.form.elements[name];
  const slot = ui.form.querySelector(`[data-error-for="${name}"]`);
  if (!field || !slot) return false;
  field.classList.toggle("is-invalid", Boolean(message));
  field.setAttribute("aria-invalid", message ? "true" : "false");
  slot.textContent = message || "";
  return true;
}

function clearErrors() {
  for (const slot of ui.form.querySelectorAll("[data-error-for]"))
    setFieldError(slot.dataset.errorFor, "");
  ui.formError.hidden = true;
  ui.formError.textContent = "";
}

function showFormError(message) {
  ui.formError.textContent = message;
  ui.formError.hidden = false;
}

function readForm() {
  const f = ui.form.elements;
  return {
    name: f.name.value.trim(),
    email: f.email.value.trim(),
    topic: f.topic.value,
    message: f.message.value,
    consent_transcript: f.consent_transcript.checked,
    consent_marketing: f.consent_marketing.checked,
    browser_key: browserKey(),
    timezone: browserTimeZone(),
    ...(identity ? { external_id: identity.id, external_id_hash: identity.hash } : {}),
  };
}

/** The browser's IANA time zone, so the transcript email shows the customer's own times. */
function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return "";
  }
}

function validate(data) {
  const errors = {};
  if (!data.name) errors.name = "Please tell us your name.";
  else if (data.name.length > 100) errors.name = "Please use at most 100 characters.";
  if (messageMode() && !data.email)
    errors.email = "Please give your email address: we answer by email.";
  else if (data.email && !ui.email.checkValidity())
    errors.email = "This does not look like an email address.";
  if (!data.topic) errors.topic = "Please choose a topic.";
  if (!data.message.trim())
    errors.message = messageMode() ? "Please write your message." : "Please write your question.";
  else if (data.message.length > MAX_LENGTH)
    errors.message = `Please use at most ${MAX_LENGTH} characters.`;
  return errors;
}

function showErrors(errors) {
  let first = null;
  const unplaced = [];
  for (const [name, messages] of Object.entries(errors)) {
    const message = Array.isArray(messages) ? messages.join(" ") : String(messages);
    if (setFieldError(name, message)) first = first || ui.form.elements[name];
    else unplaced.push(message);
  }
  if (unplaced.length) showFormError(unplaced.join(" "));
  if (first) first.focus();
}

async function startChat(event) {
  event.preventDefault();
  clearErrors();
  const data = readForm();
  const errors = validate(data);
  if (Object.keys(errors).length) {
    showErrors(errors);
    return;
  }
  if (messageMode()) {
    await leaveMessageByForm(data);
    return;
  }
  ui.start.disabled = true;
  ui.start.textContent = "Starting…";
  try {
    const post = (body) =>
      fetch(root.dataset.startUrl, {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
    let response = await post(data);
    let payload = await response.json().catch(() => ({}));
    if (response.status === 400 && payload.errors && payload.errors.timezone && data.timezone) {
      // A zone this server's database does not know must never stop the chat: start without.
      data.timezone = "";
      response = await post(data);
      payload = await response.json().catch(() => ({}));
    }
    if (response.status === 201) {
      const chat = {
        id: payload.id,
        token: payload.token,
        ws_url: payload.ws_url,
        transcript: Boolean(data.email && data.consent_transcript),
        // Prefills the "leave a message" form if the customer chooses it while waiting.
        email: data.email,
      };
      store.set(STORAGE_KEY, JSON.stringify(chat));
      ui.form.elements.message.value = "";
      openConversation(chat);
      return;
    }
    if (response.status === 403 && payload.code === "blocked") {
      showRefusal(payload.detail);
      return;
    }
    if (response.status === 409 && payload.code === "topic_closed") {
      // Closed since the page was loaded: the same form now leaves a message.
      const option = ui.form.elements.topic.selectedOptions[0];
      if (option) setTopicState(option, false, payload.opens_at);
      syncMode();
      showFormError("This topic has just closed. You can leave us a message instead.");
    } else if (response.status === 429) {
      const wait = Number(response.headers.get("Retry-After")) || 60;
      showFormError(
        `You started several chats in a short time. Please try again in ${wait} seconds.`,
      );
    } else if (payload.errors) {
      showErrors(payload.errors);
    } else {
      showFormError(payload.detail || "We could not start the chat. Please try again.");
    }
  } catch {
    showFormError("We could not reach the chat service. Check your connection and try again.");
  } finally {
    ui.start.disabled = false;
    syncMode();
  }
}

/** The pre-chat form on a closed topic: POST the message as a ticket, show its reference. */
async function leaveMessageByForm(data) {
  ui.start.disabled = true;
  ui.start.textContent = "Sending…";
  try {
    const response = await fetch(root.dataset.ticketUrl, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({
        topic: data.topic,
        name: data.name,
        email: data.email,
        body: data.message,
        browser_key: data.browser_key,
      }),
    });
    const payload = await response.json().catch(() => ({}));
    if (response.status === 201 && typeof payload.reference === "string") {
      ui.form.elements.message.value = "";
      showSent(payload.reference, data.email);
      return;
    }
    if (response.status === 403 && payload.code === "blocked") {
      showRefusal(payload.detail);
      return;
    }
    if (response.status === 429) {
      showFormError("You sent several messages in a short time. Please try again later.");
    } else if (payload.errors) {
      // The API names the message `body`; the form calls it `message`.
      const { body, ...rest } = payload.errors;
      showErrors(body ? { ...rest, message: body } : rest);
    } else {
      showFormError(payload.detail || "We could not send your message. Please try again.");
    }
  } catch {
    showFormError("We could not reach the service. Check your connection and try again.");
  } finally {
    ui.start.disabled = false;
    syncMode();
  }
}

function showSent(reference, email) {
  ui.prechat.hidden = true;
  ui.sentReference.textContent = reference;
  ui.sentText.textContent = `Thank you. We will answer you by email at ${email}.`;
  ui.sent.hidden = false;
  setStatus("Message sent");
  ui.sent.focus();
}

/** A blocked customer (403 `blocked`): the server's polite words instead of the form. */
function showRefusal(detail) {
  ui.prechat.hidden = true;
  ui.sent.hidden = true;
  ui.refusedText.textContent = detail || "We're sorry, we can't start a chat with you right now.";
  ui.refused.hidden = false;
  setStatus("Chat unavailable");
  ui.refused.focus();
}

function backToForm() {
  ui.sent.hidden = true;
  ui.prechat.hidden = false;
  setStatus("We usually reply within a few minutes");
  refreshTopics();
  focusFirst();
}

if (ui.form) {
  ui.form.addEventListener("submit", startChat);
  ui.email.addEventListener("input", syncConsents);
  ui.transcript.addEventListener("change", () => {
    transcriptTouched = true;
  });
  for (const field of ui.form.querySelectorAll("input, select, textarea")) {
    field.addEventListener("input", () => setFieldError(field.name, ""));
  }
  ui.form.elements.topic.addEventListener("change", syncMode);
  ui.sentBack.addEventListener("click", backToForm);
  for (const option of topicOptions()) labelTopic(option);
  syncConsents();
  syncMode();
}

// --- Conversation -----------------------------------------------------------------------------

let current = null; // {chat, client, list, status}

function setStatus(text) {
  ui.status.textContent = text;
}

function openConversation(chat) {
  ui.prechat.hidden = true;
  ui.conversation.hidden = false;
  ui.composer.hidden = false;
  ui.ended.hidden = true;
  ui.endButton.hidden = false;
  ui.messages.replaceChildren();
  setStatus("Connecting…");

  const client = new ChatClient({ url: chat.ws_url, role: "customer" });
  bot.reset();
  const list = new MessageList(ui.messages, {
    ownKind: "customer",
    onRetry: (id) => client.retry(chat.id, id),
    onDiscard: (id) => client.discard(chat.id, id),
    decorate: (node, item) => bot.decorate(node, item), // automated answers
  });
  current = {
    chat,
    client,
    list,
    status: null,
    lastTypingSent: 0,
    typingTimer: null,
    leaving: false, // a leave_message frame is on its way
  };

  bindConnectionBanner(client, ui.banner, { onStopped: (reason) => onStopped(reason) });
  client.addEventListener("messages", (event) => {
    list.render(client.log(chat.id).items());
    const fromAgent = event.detail.added.filter((m) => m.kind === "agent");
    if (fromAgent.length) {
      hideTyping();
      if (!event.detail.resumed) tellParent("message");
    }
  });
  client.addEventListener("outbox", () => {
    const items = client.unacked(chat.id);
    if (items.length) store.set(outboxKey(chat.id), JSON.stringify(items));
    else store.remove(outboxKey(chat.id));
  });
  client.addEventListener("frame", (event) => onFrame(event.detail));
  client.addEventListener("state", (event) => {
    // Where do I stand? Asked on every (re)connection; later changes arrive by themselves.
    if (event.detail.state === "open") {
      client.send("queue_status");
      client.send("bot_status");
    }
  });
  hideRating();
  client.restorePending(chat.id, loadOutbox(chat.id));
  client.track(chat.id);
  client.start();
  if (embedded || document.activeElement === document.body) ui.input.focus();
  tellParent("conversation"); // the widget invites nobody while one is stored
}

function formatWait(seconds) {
  if (seconds < 60) return "less than a minute";
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? "about 1 min" : `about ${minutes} min`;
}

function hideQueue() {
  ui.queue.hidden = true;
  ui.queue.textContent = "";
  hideOffer();
}

// --- Leave a message instead of waiting (routing's offer) ------------------------------------

function offerFormOpen() {
  return !ui.offerForm.hidden;
}

function hideOffer({ force = true } = {}) {
  // A customer writing their message keeps the form, whatever the queue says meanwhile.
  if (!force && offerFormOpen()) return;
  ui.offer.hidden = true;
  closeOfferForm({ focus: false });
}

function showOffer(offered) {
  if (offered) ui.offer.hidden = false;
  else hideOffer({ force: false });
}

function openOfferForm() {
  if (!current) return;
  ui.offerForm.hidden = false;
  ui.offerOpen.setAttribute("aria-expanded", "true");
  ui.offerError.hidden = true;
  if (!ui.offerEmail.value) ui.offerEmail.value = current.chat.email || "";
  if (!ui.offerBody.value) {
    // What they already asked, so they need not write it again.
    ui.offerBody.value = current.client
      .log(current.chat.id)
      .items()
      .filter((m) => m.kind === "customer")
      .map((m) => m.body)
      .join("\n\n")
      .slice(0, MAX_LENGTH);
  }
  (ui.offerEmail.value ? ui.offerBody : ui.offerEmail).focus();
}

function closeOfferForm({ focus = true } = {}) {
  ui.offerForm.hidden = true;
  ui.offerOpen.setAttribute("aria-expanded", "false");
  ui.offerSend.disabled = false;
  ui.offerSend.textContent = "Leave message";
  if (focus) ui.offerOpen.focus();
}

function showOfferError(message) {
  ui.offerError.textContent = message;
  ui.offerError.hidden = false;
  ui.offerSend.disabled = false;
  ui.offerSend.textContent = "Leave message";
  if (current) current.leaving = false;
}

function sendLeaveMessage(event) {
  event.preventDefault();
  if (!current || current.leaving) return;
  ui.offerError.hidden = true;
  const email = ui.offerEmail.value.trim();
  const body = ui.offerBody.value;
  if (!email || !ui.offerEmail.checkValidity()) {
    showOfferError("Please give a valid email address: we answer by email.");
    ui.offerEmail.focus();
    return;
  }
  if (!body.trim()) {
    showOfferError("Please write your message.");
    ui.offerBody.focus();
    return;
  }
  if (body.length > MAX_LENGTH) {
    showOfferError(`Messages are limited to ${MAX_LENGTH} characters.`);
    ui.offerBody.focus();
    return;
  }
  if (!current.client.send("leave_message", current.chat.id, { body, email })) {
    showOfferError("You are offline. Please try again once you are reconnected.");
    return;
  }
  current.leaving = true;
  current.chat.email = email;
  ui.offerSend.disabled = true;
  ui.offerSend.textContent = "Sending…";
}

// Errors that answer a pending leave_message (the error frame does not name its frame type).
const LEAVE_MESSAGE_ERRORS = new Set([
  "email_invalid",
  "body_empty",
  "body_too_long",
  "body_invalid",
  "not_queued",
  "invalid_frame",
  "rate_limited",
  "internal_error",
]);

/** The message is stored as a ticket and the chat closed: show its reference. */
function onTicket(frame) {
  current.leaving = false;
  current.chat.reference = frame.reference;
  store.set(STORAGE_KEY, JSON.stringify(current.chat));
  showLeft(); // first: it moves the focus out of the offer form before the form goes
  hideOffer();
}

function showLeft() {
  const reference = current && current.chat.reference;
  const email = current && current.chat.email;
  showEnded(
    "Message sent",
    reference
      ? `Thank you. We will answer you by email${email ? ` at ${email}` : ""}.`
      : "Saving your message…",
  );
}

ui.offerOpen.addEventListener("click", () => {
  if (offerFormOpen()) closeOfferForm();
  else openOfferForm();
});
ui.offerCancel.addEventListener("click", () => closeOfferForm());
ui.offerForm.addEventListener("submit", sendLeaveMessage);

/** Routing's `queue` frame: position and estimate while queued (text only, never HTML). */
function showQueue(frame) {
  if (!current || current.status !== "queued" || !Number.isInteger(frame.position)) {
    hideQueue();
    return;
  }
  let text;
  if (frame.agents_available === false) {
    text = "No agent is available right now";
  } else {
    text = `You are number ${frame.position} in line`;
    if (Number.isFinite(frame.estimated_wait_seconds) && frame.estimated_wait_seconds >= 0)
      text += ` · ${formatWait(frame.estimated_wait_seconds)}`;
  }
  ui.queue.classList.toggle("is-unavailable", frame.agents_available === false);
  ui.queue.textContent = text;
  ui.queue.hidden = false;
  showOffer(frame.message_offered === true);
}

function onFrame(frame) {
  if (onBotFrame(frame)) return;
  if (frame.type === "queue" && current && frame.chat === current.chat.id) {
    showQueue(frame);
  } else if (frame.type === "ticket" && current && frame.chat === current.chat.id) {
    onTicket(frame);
  } else if (frame.type === "chat" && current && frame.id === current.chat.id) {
    current.status = frame.status;
    if (frame.status !== "queued") hideQueue();
    if (frame.status === "queued") {
      setStatus("Waiting for an agent…");
    } else if (frame.status === "active") {
      setStatus(
        frame.agent
          ? `You are chatting with ${frame.agent.name}`
          : "You are chatting with an agent",
      );
    } else if (frame.status === "closed") {
      if (current.leaving || current.chat.reference) showLeft();
      else {
        showEnded();
        // Rated already (a reload, another tab)? The answer decides between form and thanks.
        current.client.send("rating_status");
      }
    }
  } else if (frame.type === "rating" && current && frame.chat === current.chat.id) {
    onRating(frame);
  } else if (frame.type === "error" && current && RATE_ERRORS.has(frame.code)) {
    onRateError(frame);
  } else if (frame.type === "typing" && frame.kind === "agent") {
    showTyping(frame.name);
  } else if (frame.type === "error" && current && current.leaving) {
    if (frame.code === "message_already_left" || frame.code === "chat_closed") {
      current.leaving = false;
      hideOffer();
      showEnded("Chat ended", frame.detail);
    } else if (LEAVE_MESSAGE_ERRORS.has(frame.code)) {
      showOfferError(frame.detail || "We could not send your message. Please try again.");
    }
  } else if (frame.type === "error" && !frame.client_msg_id && frame.code === "chat_closed") {
    showEnded();
  }
}

function showTyping(name) {
  ui.typing.querySelector("[data-typing-text]").textContent = `${name || "The agent"} is typing…`;
  ui.typing.hidden = false;
  clearTimeout(current.typingTimer);
  current.typingTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
}

function hideTyping() {
  ui.typing.hidden = true;
  if (current) clearTimeout(current.typingTimer);
}

function showEnded(title = "Chat ended", text = null) {
  setStatus(title);
  hideTyping();
  const hadFocus = ui.composer.contains(document.activeElement);
  ui.composer.hidden = true;
  ui.endButton.hidden = true;
  ui.endedTitle.textContent = title;
  ui.endedText.textContent =
    text ||
    (current && current.chat.transcript
      ? "Thanks for talking to us. We will email you the transcript."
      : "Thanks for talking to us.");
  const reference = current && current.chat.reference;
  ui.endedReference.textContent = reference || "";
  ui.endedReferenceLine.hidden = !reference;
  ui.ended.hidden = false;
  if (hadFocus || ui.offer.contains(document.activeElement)) ui.newChat.focus();
}

// --- The answer bot while queued (docs/protocol.md, "Answer bot"; static/chat/bot.js) ------------

const bot = createCustomerBot({
  bar: $("cw-bot"),
  humanButton: $("cw-bot-human"),
  note: $("cw-bot-note"),
  send: (type, fields) => Boolean(current) && current.client.send(type, undefined, fields),
  focusComposer: () => {
    if (!ui.composer.hidden) ui.input.focus();
  },
});

/** The bot's frames, and the chat's status for it; true when the frame was the bot's alone. */
function onBotFrame(frame) {
  if (!current) return false;
  if (frame.type === "bot" && frame.chat === current.chat.id) {
    bot.onFrame(frame);
    return true;
  }
  if (frame.type === "chat" && frame.id === current.chat.id) bot.onChat(frame.status);
  // An answer to the customer's Yes / No: shown under that answer.
  return frame.type === "error" && bot.onError(frame);
}

// --- Rating the ended chat (docs/protocol.md, "Feedback") ----------------------------------------

const RATE_ERRORS = new Set([
  "not_closed",
  "score_invalid",
  "comment_too_long",
  "comment_invalid",
  "rating_locked",
]);

function hideRating() {
  ui.rate.hidden = true;
  ui.rated.hidden = true;
  ui.rateError.hidden = true;
}

function ratingEditable(rating) {
  return Boolean(rating && rating.editable && Date.parse(rating.editable_until) > Date.now());
}

function showRateForm(rating = null) {
  ui.rated.hidden = true;
  ui.rateError.hidden = true;
  ui.rateSend.disabled = false;
  for (const radio of ui.rate.elements.score) radio.checked = rating && Number(radio.value) === rating.score;
  ui.rateComment.value = (rating && rating.comment) || "";
  ui.rate.hidden = false;
}

function showRated(rating, note = "") {
  ui.rate.hidden = true;
  ui.ratedText.textContent = note || "Thanks for your feedback";
  ui.rateEdit.hidden = !ratingEditable(rating);
  ui.rated.hidden = false;
}

function onRating(frame) {
  if (frame.score === null) {
    current.rating = null;
    // Never reset a form the customer is filling in (a repeated answer after a reconnect).
    if (ui.rate.hidden) showRateForm();
    return;
  }
  const wasSending = ui.rateSend.disabled;
  current.rating = frame;
  // An answer (ours, or another tab's rating) while editing closes the form; a published
  // copy arriving while the customer edits does not.
  if (wasSending || ui.rate.hidden) {
    const focusThanks = wasSending && ui.rate.contains(document.activeElement);
    showRated(frame);
    if (focusThanks) (ui.rateEdit.hidden ? ui.newChat : ui.rateEdit).focus();
  }
}

function onRateError(frame) {
  ui.rateSend.disabled = false;
  if (frame.code === "rating_locked" && current.rating) {
    current.rating = { ...current.rating, editable: false };
    showRated(current.rating, "Thanks for your feedback. It can no longer be changed.");
    return;
  }
  ui.rateError.textContent = frame.detail || "We could not save your rating. Please try again.";
  ui.rateError.hidden = false;
}

ui.rate.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!current) return;
  ui.rateError.hidden = true;
  const checked = ui.rate.querySelector('input[name="score"]:checked');
  if (!checked) {
    ui.rateError.textContent = "Choose a score from 1 to 5.";
    ui.rateError.hidden = false;
    ui.rate.elements.score[0].focus();
    return;
  }
  const frame = { score: Number(checked.value) };
  const comment = ui.rateComment.value.trim();
  if (comment) frame.comment = comment;
  if (!current.client.send("rate", undefined, frame)) {
    ui.rateError.textContent = "You are offline. Please try again once you are reconnected.";
    ui.rateError.hidden = false;
    return;
  }
  ui.rateSend.disabled = true;
});

ui.rateEdit.addEventListener("click", () => {
  if (!current) return;
  showRateForm(current.rating);
  const checked = ui.rate.querySelector('input[name="score"]:checked');
  (checked || ui.rate.elements.score[0]).focus();
});

function onStopped(reason) {
  // Stopped for a reason (close code 4001: the token no longer opens this chat): it cannot
  // come back. Without a reason, this page stopped it itself.
  if (reason) showEnded("This chat is no longer available", `${reason} Please start a new chat.`);
}

function updateCounter() {
  const length = ui.input.value.length;
  ui.counter.textContent = `${length} / ${MAX_LENGTH}`;
  ui.counter.classList.toggle("is-near", length > MAX_LENGTH * 0.9);
  ui.input.style.height = "auto";
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 160)}px`;
}

function sendComposer(event) {
  event.preventDefault();
  if (!current) return;
  const body = ui.input.value;
  ui.composerError.hidden = true;
  if (!body.trim()) return;
  if (body.length > MAX_LENGTH) {
    ui.composerError.textContent = `Messages are limited to ${MAX_LENGTH} characters.`;
    ui.composerError.hidden = false;
    return;
  }
  current.client.sendMessage(current.chat.id, body);
  ui.input.value = "";
  updateCounter();
  current.list.scrollToBottom();
  ui.input.focus();
}

ui.composer.addEventListener("submit", sendComposer);
ui.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) sendComposer(event);
});
ui.input.addEventListener("input", () => {
  updateCounter();
  const now = Date.now();
  if (
    current &&
    current.status === "active" &&
    ui.input.value.trim() &&
    now - current.lastTypingSent >= TYPING_EVERY_MS
  ) {
    current.lastTypingSent = now;
    current.client.send("typing");
  }
});

ui.endButton.addEventListener("click", async () => {
  if (!current) return;
  const yes = await confirmDialog({
    title: "End this chat?",
    body: "You can start a new chat at any time.",
    confirmLabel: "End chat",
  });
  if (!yes) {
    ui.endButton.focus();
    return;
  }
  if (!current.client.send("close")) {
    ui.composerError.textContent =
      "You are offline. The chat will end once you can reconnect; please try again.";
    ui.composerError.hidden = false;
  }
});

ui.newChat.addEventListener("click", () => {
  if (current) {
    current.client.stop();
    store.remove(outboxKey(current.chat.id));
    current = null;
  }
  store.remove(STORAGE_KEY);
  tellParent("no_conversation");
  ui.banner.hidden = true;
  bot.reset();
  hideQueue();
  ui.conversation.hidden = true;
  ui.endButton.hidden = true;
  hideRating();
  ui.offerBody.value = "";
  ui.prechat.hidden = false;
  setStatus("We usually reply within a few minutes");
  refreshTopics();
  focusFirst();
});

/** A proactive invitation (widget.js, docs/invitations.md) names the topic it suggests:
 * `?topic=<slug>` on the frame's address, or a `topic` message when the frame already exists.
 * The pre-chat form starts on it, if it is one of the form's topics (still the customer's to
 * change). */
function preselectInvitedTopic(slug) {
  if (!ui.form || typeof slug !== "string" || !/^[-a-zA-Z0-9_]{1,80}$/.test(slug)) return;
  const select = ui.form.elements.topic;
  if (!topicOptions().some((option) => option.value === slug)) return;
  select.value = slug;
  select.dispatchEvent(new Event("change", { bubbles: true })); // a closed topic: message mode
}
preselectInvitedTopic(new URLSearchParams(window.location.search).get("topic"));
window.addEventListener("message", (event) => {
  const data = event.data;
  if (event.source !== window.parent || !data || data.source !== "helpdesk-widget") return;
  if (data.type === "topic") preselectInvitedTopic(data.topic);
});

// Another tab started or ended a conversation: follow it.
window.addEventListener("storage", (event) => {
  if (event.key !== STORAGE_KEY) return;
  const stored = loadChat();
  if ((stored && stored.token) !== (current && current.chat.token)) window.location.reload();
});

/** A chat opened from an email link, `/chat/#token=<token>`: the token leaves the address bar
 * (and so the history) at once, then the chat is kept like one started here. */
function chatFromLink() {
  const match = /^#token=([A-Za-z0-9._:-]{1,200})$/.exec(window.location.hash);
  if (!window.location.hash.startsWith("#token=")) return null;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  if (!match) return null;
  const token = match[1];
  const id = Number(token.split(".")[0]);
  if (!Number.isInteger(id) || id < 1) return null;
  const known = loadChat();
  if (known && known.token === token) return known;
  const ws = new URL(`/ws/chat/${token}/`, window.location.href);
  ws.protocol = ws.protocol === "https:" ? "wss:" : "ws:";
  const chat = { id, token, ws_url: ws.href, transcript: false, email: "" };
  store.set(STORAGE_KEY, JSON.stringify(chat));
  return chat;
}

/** The site's logged-in customer, handed over by widget.js in the fragment
 * (`#identity=<JSON>`, docs/widget-identity.md): it leaves the address bar at once and is kept
 * for this tab only. The server trusts it only if the hash matches. */
function identityFromLink() {
  const PREFIX = "#identity=";
  if (window.location.hash.startsWith(PREFIX)) {
    let given = null;
    try {
      given = JSON.parse(decodeURIComponent(window.location.hash.slice(PREFIX.length)));
    } catch {
      given = null;
    }
    history.replaceState(null, "", window.location.pathname + window.location.search);
    const text = (value, max) => (typeof value === "string" ? value.slice(0, max) : "");
    if (given && text(given.id, 255) && text(given.hash, 64)) {
      const found = {
        id: text(given.id, 255),
        hash: text(given.hash, 64),
        name: text(given.name, 100),
        email: text(given.email, 254),
      };
      try {
        sessionStorage.setItem(IDENTITY_KEY, JSON.stringify(found));
      } catch {
        /* storage refused: it still holds for this page */
      }
      return found;
    }
  }
  try {
    return JSON.parse(sessionStorage.getItem(IDENTITY_KEY) || "null");
  } catch {
    return null;
  }
}

const IDENTITY_KEY = "helpdesk.identity";
const identity = identityFromLink();
if (identity && ui.form) {
  // Known to the site: their details are filled in (still theirs to correct).
  const f = ui.form.elements;
  if (identity.name && !f.name.value) f.name.value = identity.name;
  if (identity.email && !f.email.value) {
    f.email.value = identity.email;
    // As if typed: the transcript and news boxes depend on an email being there.
    f.email.dispatchEvent(new Event("input", { bubbles: true }));
  }
}

const stored = chatFromLink() || loadChat();
if (stored) openConversation(stored);
