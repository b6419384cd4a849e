// The Scimitar console's only script. Every page works without it; it adds
// copy buttons, confirmations before destructive forms, and live log updates.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// The provisioning log: new entries arrive as Server-Sent Events and are put on
// top, built with textContent (never HTML) from the entry's fields.
const log = document.getElementById("log");
if (log && log.dataset.stream && window.EventSource) {
  const state = document.getElementById("live-state");
  const body = log.querySelector("tbody");
  const source = new EventSource(log.dataset.stream);
  source.addEventListener("open", () => { if (state) state.textContent = "Live: new entries appear at the top."; });
  source.addEventListener("error", () => { if (state) state.textContent = "Live updates paused; reconnecting."; });
  source.addEventListener("entry", (message) => {
    const entry = JSON.parse(message.data);
    const row = document.createElement("tr");
    if (entry.status >= 400) row.className = "failed";
    const cells = [
      entry.at,
      entry.status + (entry.scimType ? " " + entry.scimType : ""),
      entry.method + " " + entry.operation,
      (entry.resourceType || "") + (entry.resourceId ? "/" + entry.resourceId : ""),
      entry.tokenLabel || entry.tokenId || "",
      entry.detail || "",
    ];
    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    }
    body.insertBefore(row, body.firstChild);
  });
}
