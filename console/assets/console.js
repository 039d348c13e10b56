// The console's only script of its own (no inline script anywhere: the CSP forbids it).
// On a session page it starts asciinema-player on the recording and makes the command list
// seek it; a link ending in #t=SECONDS (from command search) starts there. On a watch page it
// plays the live session from its WebSocket.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("player");
  if (!el || typeof AsciinemaPlayer === "undefined") return;
  if (el.dataset.live) {
    // A live session: asciicast v2 over a WebSocket to this same origin.
    const url = "wss://" + window.location.host + el.dataset.live;
    window.bastionPlayer = AsciinemaPlayer.create({ driver: "websocket", url: url, bufferTime: 0 }, el, {
      fit: "width",
      autoPlay: true,
      terminalFontSize: "small",
    });
    return;
  }
  // A long recording comes in parts (each a whole asciicast file, the first screen of a later
  // part drawn for it), so playing starts without fetching the whole file: the player moves
  // to the next part when one ends, and a seek loads the part holding that moment.
  const parts = JSON.parse(el.dataset.parts || "[0]");
  const options = { fit: "width", idleTimeLimit: 2, preload: true, terminalFontSize: "small" };
  const label = document.createElement("p");
  label.className = "muted";
  label.id = "part-label";
  if (parts.length > 1) el.after(label);
  let player = null;
  let current = -1;
  const partOf = (t) => parts.reduce((k, start, i) => (start <= t ? i : k), 0);
  const load = (k, autoPlay) => {
    if (player) player.dispose();
    el.replaceChildren();
    current = k;
    const url = parts.length > 1 ? el.dataset.cast + "?part=" + k : el.dataset.cast;
    player = AsciinemaPlayer.create(url, el, Object.assign({ autoPlay: autoPlay }, options));
    window.bastionPlayer = player; // for the browser tests' inspection
    window.bastionPart = k;
    label.textContent = "part " + (k + 1) + " of " + parts.length + " (a long recording plays in parts)";
    player.addEventListener("ended", () => {
      if (current + 1 < parts.length) load(current + 1, true);
    });
  };
  load(0, false);
  const seek = (t) => {
    const k = partOf(t);
    if (k !== current) load(k, false);
    player.seek(Math.max(0, t - parts[k])).then(() => player.play());
  };
  document.querySelectorAll("[data-seek]").forEach((a) => {
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      seek(parseFloat(a.dataset.seek));
    });
  });
  const m = /^#t=([0-9]+(?:\.[0-9]+)?)$/.exec(window.location.hash);
  if (m) seek(parseFloat(m[1]));
});

// The requests page follows the pending requests: when the set waiting for a decision
// changes, the page reloads, unless the approver is typing in one of its forms.
document.addEventListener("DOMContentLoaded", () => {
  const table = document.querySelector("table[data-follow]");
  if (!table) return;
  const shown = () =>
    Array.from(table.querySelectorAll("tr[data-status=pending]"))
      .map((tr) => tr.dataset.request)
      .sort()
      .join(",");
  const busy = () => {
    const a = document.activeElement;
    if (a && a.tagName === "INPUT" && a.type !== "hidden") return true;
    return Array.from(table.querySelectorAll("input:not([type=hidden])")).some((i) => i.value !== "");
  };
  const follow = () => {
    fetch(table.dataset.follow, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((j) => {
        if (!j) return;
        const now = j.items.map((r) => String(r.id)).sort().join(",");
        if (now !== shown() && !busy()) window.location.reload();
      })
      .catch(() => {})
      .finally(() => setTimeout(follow, 2000));
  };
  setTimeout(follow, 2000);
});
