// A citation links to its finding's row in the folded "Verified at build" table (and
// the row back to the sentence): open the folds around the target, then show it.
function revealTarget() {
  const id = decodeURIComponent(location.hash.slice(1));
  const target = id && document.getElementById(id);
  if (!target) return;
  for (let node = target.parentElement; node; node = node.parentElement) {
    if (node.tagName === "DETAILS") node.open = true;
  }
  target.scrollIntoView({ block: "center" });
}
window.addEventListener("hashchange", revealTarget);
document.addEventListener("DOMContentLoaded", revealTarget);

// A code block that scrolls sideways must be reachable from the keyboard.
document.addEventListener("DOMContentLoaded", () => {
  for (const code of document.querySelectorAll("pre > code:not([tabindex])")) {
    if (code.scrollWidth > code.clientWidth) code.setAttribute("tabindex", "0");
  }
});
