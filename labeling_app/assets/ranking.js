/* Keyboard ranking (ranking projects): type the response numbers best first; `=` before a
   number ties it with the one before; Escape starts over; Enter submits.

   Each key clicks the rank button of that response, so the page shows (and the mouse can
   change) what the keys did. Keys are ignored while typing in a text field and while a
   submission is on its way (shortcuts.js's busy class). A new item starts a new sequence. */
(() => {
  let typed = [];    // response positions (0-based), best first
  let ranks = [];    // the rank given to each typed response
  let tie = false;   // the next number ties with the previous one
  let lease = null;  // the item the sequence belongs to (its first pane's text)
  const pane = (p) => document.getElementById(`response-${p}`);
  const visible = (p) => { const el = pane(p); return el && el.offsetParent !== null; };
  const busy = () => document.body.classList.contains("prefkit-busy");
  const show = () => {
    const out = document.getElementById("rank-keys");
    if (!out) return;
    let text = "";
    typed.forEach((p, n) => {
      if (n) text += ranks[n] === ranks[n - 1] ? " = " : " > ";
      text += String(p + 1);
    });
    out.textContent = typed.length ? `Typed: ${text}${tie ? " =" : ""}` : "";
  };
  const current = () => (document.getElementById("pane-0") || {}).textContent || "";
  const reset = () => { typed = []; ranks = []; tie = false; lease = current(); show(); };
  const choose = (p, rank) => {
    const input = [...document.querySelectorAll(`#rank-${p} input[type="radio"]`)]
      .find((el) => el.value === String(rank));
    if (input) input.click();
  };
  document.addEventListener("keydown", (event) => {
    if (!document.getElementById("rank-0")) return;  // not a ranking project
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || busy()) return;
    if (target && (target.tagName === "INPUT" && target.type !== "radio" ||
                   target.tagName === "TEXTAREA" || target.isContentEditable)) return;
    if (lease !== current()) reset();
    const key = event.key;
    if (key === "Escape") { event.preventDefault(); reset(); return; }
    if (key === "=") { if (typed.length) { tie = true; show(); } event.preventDefault(); return; }
    if (key === "Enter") {
      const submit = document.getElementById("vote-submit");
      if (submit && !submit.disabled) { event.preventDefault(); submit.click(); }
      return;
    }
    if (!/^[1-9]$/.test(key)) return;
    const p = Number(key) - 1;
    if (!visible(p) || typed.includes(p)) return;
    event.preventDefault();
    const rank = !typed.length ? 1 : (tie ? ranks[ranks.length - 1] : ranks[ranks.length - 1] + 1);
    typed.push(p); ranks.push(rank); tie = false;
    choose(p, rank);
    show();
  });
})();
