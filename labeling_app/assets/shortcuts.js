/* Keyboard shortcuts for the vote buttons, and the busy guard.

   Shortcuts are ignored while typing in a text field. From a vote's click (by mouse or key)
   until the next item is on screen, the body has the class prefkit-busy: the buttons are
   greyed out and keys are ignored, so a double press cannot send two votes. The app
   removes the class when the vote's response has been shown (a `.then` step). */
(() => {
  const keys = {"1": "vote-left_much", "2": "vote-left", "3": "vote-tie", "4": "vote-right",
                "5": "vote-right_much", "b": "vote-both_bad", "s": "vote-skip"};
  const busy = () => document.body.classList.contains("prefkit-busy");
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("#votes button");
    if (!button) return;
    if (busy()) {  // a click that slipped through: not a second vote
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    document.body.classList.add("prefkit-busy");
  }, true);
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || busy()) return;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
                   target.isContentEditable)) return;
    const id = keys[event.key.toLowerCase()];
    const button = id && document.getElementById(id);
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });
})();
