// The console's only script of its own (no inline script anywhere: the CSP forbids it).
// On a session page it starts asciinema-player on the recording and makes the command list
// seek it; a link ending in #t=SECONDS (from command search) starts there.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("player");
  if (!el || typeof AsciinemaPlayer === "undefined") return;
  const player = AsciinemaPlayer.create(el.dataset.cast, el, {
    fit: "width",
    idleTimeLimit: 2,
    preload: true,
    terminalFontSize: "small",
  });
  window.bastionPlayer = player; // for the browser tests' inspection
  const seek = (t) => {
    player.seek(t).then(() => player.play());
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
