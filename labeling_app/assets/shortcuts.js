/* Keyboard shortcuts for the vote buttons; ignored while typing in a text field. */
(() => {
  const keys = {"1": "vote-left_much", "2": "vote-left", "3": "vote-tie", "4": "vote-right",
                "5": "vote-right_much", "b": "vote-both_bad", "s": "vote-skip"};
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
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
