/**
 * Difficult customers in the console (docs/protocol.md, "Difficult customers"): an "End &
 * block" button on every pane the agent can write in, opening a confirm dialog with a required
 * reason and an optional block of the customer's network address for 1 hour, 24 hours or 7
 * days. It sends `block`; the answer is `blocked`, or an `error` naming the chat (shown in the
 * dialog, which stays open so the agent can fix the reason).
 *
 * Names and reasons are put in the page as text only, never as HTML.
 */
import { h } from "./ui.js";

const REASON_MAX = 500;
// Minutes, as the `block_ip_minutes` field takes them.
const ADDRESS_CHOICES = [
  [60, "1 hour"],
  [1440, "24 hours"],
  [10080, "7 days"],
];

/**
 * Hooks the console calls: decorate(chat, pane) when a pane is built, update(chat) when it is
 * refreshed, onFrame(frame) -> handled?, onError(frame) -> handled?
 */
export function createBlocks({ client, chats, canWrite, toast }) {
  /** chat ids whose `block` frame waits for its answer */
  const pending = new Set();
  /** the open dialog: {chatId, el, reason, submit, error, busy, closing} */
  let dialog = null;

  // A dialog's "close" event comes later than close(): until then `dialog` is still set, and a
  // chat frame arriving meanwhile must not take it for a dialog left open.
  function closeDialog() {
    if (!dialog || dialog.closing) return;
    dialog.closing = true;
    dialog.el.close();
  }

  function decorate(chat, pane) {
    const button = h("button", {
      type: "button",
      className: "btn btn-outline-danger btn-sm pane__block-btn",
      text: "End & block",
      title: "End this chat and block the customer",
      "aria-haspopup": "dialog",
      hidden: true, // update() shows it where the agent can write
      onclick: () => openDialog(chat.id),
    });
    pane.closeBtn.after(button);
    pane.block = { button };
  }

  function update(chat) {
    const parts = chat?.pane?.block;
    if (!parts) return;
    const writable = canWrite(chat);
    parts.button.hidden = !writable;
    // The chat ended (or left this agent) while the dialog was open and nothing was sent:
    // there is nothing left to block from here.
    if (
      !writable &&
      dialog &&
      !dialog.closing &&
      dialog.chatId === chat.id &&
      !pending.has(chat.id)
    ) {
      closeDialog();
      toast("The chat ended before you blocked the customer.", "warning");
    }
  }

  function showError(text) {
    if (!dialog) return;
    dialog.error.textContent = text;
    dialog.error.hidden = false;
  }

  function ready() {
    if (!dialog) return;
    dialog.busy = false;
    dialog.submit.disabled = false;
    dialog.submit.textContent = "End chat & block";
  }

  function openDialog(chatId) {
    const chat = chats.get(chatId);
    if (!chat || !canWrite(chat) || dialog) return;
    const uid = `block-${chatId}`;
    const name = chat.frame.customer.name;
    const reason = h("textarea", {
      className: "form-control block-dialog__reason",
      id: `${uid}-reason`,
      name: "reason",
      rows: "3",
      maxlength: String(REASON_MAX),
      required: true,
      "aria-describedby": `${uid}-hint ${uid}-counter`,
      placeholder: "What did they do? Supervisors read this when they review the block.",
    });
    const counter = h("span", { className: "hd-counter", id: `${uid}-counter` });
    const alsoAddress = h("input", {
      type: "checkbox",
      className: "form-check-input",
      id: `${uid}-address`,
      name: "block_address",
      "aria-controls": `${uid}-duration`,
    });
    const duration = h(
      "select",
      {
        className: "form-select form-select-sm block-dialog__duration",
        id: `${uid}-duration`,
        name: "block_ip_minutes",
        "aria-label": "For how long",
        disabled: true,
      },
      ...ADDRESS_CHOICES.map(([minutes, label]) =>
        h("option", { value: String(minutes), text: label }),
      ),
    );
    const error = h("div", {
      className: "alert alert-danger py-2 mb-2 block-dialog__error",
      role: "alert",
      hidden: true,
    });
    const submit = h("button", {
      type: "submit",
      className: "btn btn-danger",
      text: "End chat & block",
    });
    const cancel = h("button", {
      type: "button",
      className: "btn btn-outline-secondary",
      text: "Cancel",
      onclick: () => closeDialog(),
    });
    const form = h(
      "form",
      { method: "dialog", novalidate: true },
      h("h2", {
        className: "h5 mb-2",
        id: `${uid}-title`,
        text: `End the chat and block ${name}?`,
      }),
      h("p", {
        className: "small mb-2",
        id: `${uid}-desc`,
        text:
          "The chat ends now. From this browser or with this email they cannot start a chat " +
          "or leave a message until a supervisor lifts the block. They are not told why.",
      }),
      h(
        "label",
        { className: "form-label mb-1", for: `${uid}-reason` },
        "Reason ",
        h("span", { className: "text-muted", text: "(required)" }),
      ),
      reason,
      h(
        "div",
        { className: "d-flex justify-content-between small text-muted mt-1 mb-2" },
        h("span", { id: `${uid}-hint`, text: "Never shown to the customer." }),
        counter,
      ),
      h(
        "div",
        { className: "d-flex align-items-center flex-wrap gap-2 mb-1" },
        h(
          "div",
          { className: "form-check mb-0" },
          alsoAddress,
          h("label", {
            className: "form-check-label",
            for: `${uid}-address`,
            text: "Also block their network address for",
          }),
        ),
        duration,
      ),
      h("p", {
        className: "small text-muted mb-2",
        text: "Others may share it (a household, an office, a café): use it for repeated abuse.",
      }),
      error,
      h("div", { className: "d-flex gap-2 justify-content-end mt-2" }, cancel, submit),
    );
    const el = h(
      "dialog",
      {
        className: "hd-dialog block-dialog",
        "aria-labelledby": `${uid}-title`,
        "aria-describedby": `${uid}-desc`,
        dataset: { chatId },
      },
      form,
    );
    dialog = { chatId, el, reason, submit, error, busy: false, closing: false };

    const count = () => {
      counter.textContent = `${reason.value.length} / ${REASON_MAX}`;
      counter.classList.toggle("is-near", reason.value.length > REASON_MAX * 0.9);
    };
    reason.addEventListener("input", () => {
      count();
      if (reason.value.trim()) {
        reason.removeAttribute("aria-invalid");
        if (dialog) dialog.error.hidden = true;
      }
    });
    count();
    alsoAddress.addEventListener("change", () => {
      duration.disabled = !alsoAddress.checked;
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitDialog(alsoAddress.checked ? Number(duration.value) : 0);
    });
    el.addEventListener("close", () => {
      el.remove();
      dialog = null;
      const button = chats.get(chatId)?.pane?.block?.button;
      if (button && !button.hidden) button.focus();
    });
    document.body.append(el);
    el.showModal();
    reason.focus();
  }

  function submitDialog(minutes) {
    if (!dialog || dialog.busy) return;
    const text = dialog.reason.value.trim();
    if (!text) {
      dialog.reason.setAttribute("aria-invalid", "true");
      showError("Please say why you block this customer: supervisors review every block.");
      dialog.reason.focus();
      return;
    }
    if (text.length > REASON_MAX) {
      dialog.reason.setAttribute("aria-invalid", "true");
      showError(`A reason can be at most ${REASON_MAX} characters long.`);
      dialog.reason.focus();
      return;
    }
    const fields = minutes ? { reason: text, block_ip_minutes: minutes } : { reason: text };
    if (!client.send("block", dialog.chatId, fields)) {
      showError("You are offline. Try again once reconnected.");
      return;
    }
    pending.add(dialog.chatId);
    dialog.busy = true;
    dialog.error.hidden = true;
    dialog.submit.disabled = true;
    dialog.submit.textContent = "Blocking…";
  }

  function onFrame(frame) {
    if (frame.type !== "blocked") return false;
    const wasPending = pending.delete(frame.chat);
    if (dialog && dialog.chatId === frame.chat) closeDialog();
    if (wasPending) {
      const name = chats.get(frame.chat)?.frame.customer.name || "The customer";
      toast(`Chat ended. ${name} is blocked.`, "info");
    }
    return true;
  }

  function onError(frame) {
    if (frame.chat == null || !pending.has(frame.chat)) return false;
    pending.delete(frame.chat);
    const detail = frame.detail || frame.code;
    if (dialog && dialog.chatId === frame.chat) {
      ready();
      showError(detail);
      if (frame.code.startsWith("reason_")) dialog.reason.focus();
    } else {
      toast(detail);
    }
    return true;
  }

  client.addEventListener("state", (event) => {
    // An answer lost with the connection: let the agent look and try again.
    if (event.detail.state === "open" || !pending.size) return;
    pending.clear();
    if (dialog) {
      ready();
      showError("The connection dropped. Check whether the chat ended, then try again.");
    }
  });

  return { decorate, update, onFrame, onError };
}
