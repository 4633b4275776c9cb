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

// Material draws a code annotation's marker as a link with only a number in it:
// give each one a name a screen reader can say.
function nameAnnotations(root) {
  for (const link of root.querySelectorAll("a.md-annotation__index:not([aria-label])")) {
    const number = link.textContent.trim() || link.dataset.mdAnnotationId || "";
    link.setAttribute("aria-label", `note ${number} on this line`.replace("  ", " "));
  }
}
new MutationObserver(() => nameAnnotations(document)).observe(document.documentElement,
  {childList: true, subtree: true});
document.addEventListener("DOMContentLoaded", () => nameAnnotations(document));
