/*
 * The chat widget: one tag on any website adds a "Chat with us" launcher, bottom right.
 *
 *   <script src="https://HELPDESK/static/chat/widget.js" defer></script>
 *
 * The launcher opens a panel holding an iframe of HELPDESK/chat/?embed=1; the helpdesk origin
 * is taken from this script's own src. Everything it creates is styled inline (with
 * !important), so the host page's CSS cannot reach in, and the chat itself lives in the iframe.
 * The iframe is created on first open and kept, so the conversation stays connected.
 */
(function () {
  "use strict";

  if (window.__helpdeskWidgetLoaded) return;
  window.__helpdeskWidgetLoaded = true;

  var script =
    document.currentScript ||
    Array.prototype.slice.call(document.scripts).filter(function (s) {
      return /\/static\/chat\/widget(\.[\w]+)?\.js(\?|$)/.test(s.src);
    })[0];
  if (!script) return;
  var ORIGIN = new URL(script.src, window.location.href).origin;
  var CHAT_URL = ORIGIN + "/chat/?embed=1";
  var BRAND = "#2b4fc7";
  var BRAND_DARK = "#1f3a99";
  var FOCUS_RING = "0 0 0 3px #ffffff, 0 0 0 6px " + BRAND_DARK;
  var Z = "2147483000";
  var mobile = window.matchMedia("(max-width: 520px)");
  var SVG = "http://www.w3.org/2000/svg";

  function style(el, rules) {
    for (var name in rules) {
      if (Object.prototype.hasOwnProperty.call(rules, name)) {
        el.style.setProperty(name, rules[name], "important");
      }
    }
  }

  function reset(el) {
    el.style.setProperty("all", "initial", "important");
  }

  function icon(pathData, size) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", size);
    svg.setAttribute("height", size);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", pathData);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    style(svg, { display: "block", flex: "none" });
    return svg;
  }

  /** A visible focus ring for keyboard users (inline styles cannot say :focus-visible). */
  function focusRing(el, extra) {
    el.addEventListener("focus", function () {
      var keyboard = true;
      try {
        keyboard = el.matches(":focus-visible");
      } catch (e) {
        /* old browser: always show */
      }
      if (keyboard) style(el, { "box-shadow": FOCUS_RING + (extra ? ", " + extra : "") });
    });
    el.addEventListener("blur", function () {
      style(el, { "box-shadow": extra || "none" });
    });
  }

  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  var CHAT_ICON =
    "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-4.3 3.4A.5.5 0 0 1 4 21v-3a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2Z";
  var CLOSE_ICON =
    "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4Z";
  var LAUNCHER_SHADOW = "0 8px 24px rgba(16, 24, 40, 0.28)";

  // --- Launcher -------------------------------------------------------------------------------
  var launcher = document.createElement("button");
  reset(launcher);
  launcher.type = "button";
  launcher.id = "helpdesk-widget-launcher";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "helpdesk-widget-panel");
  style(launcher, {
    position: "fixed",
    right: "20px",
    bottom: "20px",
    "z-index": Z,
    display: "inline-flex",
    "align-items": "center",
    gap: "10px",
    padding: "0 22px 0 18px",
    height: "54px",
    "border-radius": "27px",
    background: BRAND,
    color: "#ffffff",
    "font-family": FONT,
    "font-size": "16px",
    "font-weight": "600",
    "line-height": "1",
    cursor: "pointer",
    "box-shadow": LAUNCHER_SHADOW,
    "box-sizing": "border-box",
    transition: "background-color 0.15s ease, transform 0.15s ease",
  });
  var launcherIcon = icon(CHAT_ICON, 22);
  var launcherLabel = document.createElement("span");
  reset(launcherLabel);
  style(launcherLabel, { color: "inherit", font: "inherit", "white-space": "nowrap" });
  launcherLabel.textContent = "Chat with us";
  var badge = document.createElement("span");
  reset(badge);
  badge.setAttribute("aria-hidden", "true");
  style(badge, {
    display: "none",
    position: "absolute",
    top: "-4px",
    right: "-4px",
    "min-width": "22px",
    height: "22px",
    padding: "0 6px",
    "box-sizing": "border-box",
    "border-radius": "11px",
    background: "#c0182c",
    color: "#ffffff",
    border: "2px solid #ffffff",
    "font-family": FONT,
    "font-size": "12px",
    "font-weight": "700",
    "line-height": "18px",
    "text-align": "center",
  });
  launcher.appendChild(launcherIcon);
  launcher.appendChild(launcherLabel);
  launcher.appendChild(badge);
  launcher.addEventListener("mouseenter", function () {
    style(launcher, { background: BRAND_DARK });
  });
  launcher.addEventListener("mouseleave", function () {
    style(launcher, { background: BRAND });
  });
  focusRing(launcher, LAUNCHER_SHADOW);

  // --- Panel ----------------------------------------------------------------------------------
  var panel = document.createElement("div");
  reset(panel);
  panel.id = "helpdesk-widget-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "Chat with us");
  style(panel, {
    position: "fixed",
    "z-index": Z,
    display: "none",
    background: "#ffffff",
    overflow: "hidden",
    "box-sizing": "border-box",
  });

  var closeButton = document.createElement("button");
  reset(closeButton);
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", "Close chat window");
  closeButton.title = "Close (Esc)";
  style(closeButton, {
    position: "absolute",
    top: "14px",
    right: "12px",
    width: "36px",
    height: "36px",
    display: "grid",
    "place-items": "center",
    "border-radius": "50%",
    background: "rgba(255, 255, 255, 0.16)",
    color: "#ffffff",
    cursor: "pointer",
    "z-index": "1",
  });
  closeButton.appendChild(icon(CLOSE_ICON, 20));
  focusRing(closeButton);
  panel.appendChild(closeButton);

  var iframe = null;
  var unread = 0;

  function layout() {
    if (mobile.matches) {
      style(panel, {
        inset: "0",
        top: "0",
        right: "0",
        bottom: "0",
        left: "0",
        width: "100%",
        height: "100%",
        "border-radius": "0",
        "box-shadow": "none",
      });
    } else {
      style(panel, {
        inset: "auto",
        top: "auto",
        left: "auto",
        right: "20px",
        bottom: "88px",
        width: "384px",
        height: "min(640px, calc(100vh - 116px))",
        "border-radius": "16px",
        "box-shadow": "0 20px 60px rgba(16, 24, 40, 0.3)",
      });
    }
    var open = isOpen();
    style(launcher, { display: open && mobile.matches ? "none" : "inline-flex" });
  }

  function isOpen() {
    return launcher.getAttribute("aria-expanded") === "true";
  }

  function setBadge(count) {
    unread = count;
    badge.textContent = count > 9 ? "9+" : String(count);
    style(badge, { display: count ? "inline-block" : "none" });
    if (count) launcher.setAttribute("aria-label", "Chat with us, " + count + " new");
    else launcher.removeAttribute("aria-label");
  }

  function focusChat() {
    if (!iframe) return;
    iframe.focus();
    iframe.contentWindow.postMessage({ source: "helpdesk-widget", type: "focus" }, ORIGIN);
  }

  function open() {
    if (!iframe) {
      iframe = document.createElement("iframe");
      reset(iframe);
      iframe.id = "helpdesk-widget-frame";
      iframe.title = "Customer support chat";
      iframe.src = CHAT_URL;
      iframe.setAttribute("allow", "clipboard-write");
      style(iframe, { display: "block", width: "100%", height: "100%", border: "0" });
      iframe.addEventListener("load", function () {
        if (isOpen()) focusChat();
      });
      panel.appendChild(iframe);
    } else {
      focusChat();
    }
    launcher.setAttribute("aria-expanded", "true");
    launcherLabel.textContent = "Close chat";
    launcher.replaceChild(icon(CLOSE_ICON, 22), launcher.firstChild);
    style(panel, { display: "block" });
    setBadge(0);
    layout();
  }

  function close() {
    var hadFocus = panel.contains(document.activeElement);
    launcher.setAttribute("aria-expanded", "false");
    launcherLabel.textContent = "Chat with us";
    launcher.replaceChild(icon(CHAT_ICON, 22), launcher.firstChild);
    style(panel, { display: "none" });
    layout();
    if (hadFocus || document.activeElement === document.body) launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (isOpen()) close();
    else open();
  });
  closeButton.addEventListener("click", close);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) close();
  });
  window.addEventListener("message", function (event) {
    if (!iframe || event.source !== iframe.contentWindow || event.origin !== ORIGIN) return;
    var data = event.data || {};
    if (data.source !== "helpdesk-chat") return;
    if (data.type === "close") close();
    else if (data.type === "message" && !isOpen()) setBadge(unread + 1);
  });
  if (mobile.addEventListener) mobile.addEventListener("change", layout);

  function mount() {
    document.body.appendChild(launcher);
    document.body.appendChild(panel);
    layout();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
