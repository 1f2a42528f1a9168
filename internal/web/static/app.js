// Stride's only script, and an optional one: every page works without it.
// It adds a "Copy" button to each command of the getting-started help, so
// a new user can paste the import command with their service name as is.
document.addEventListener("DOMContentLoaded", function () {
  if (!navigator.clipboard) {
    return;
  }
  document.querySelectorAll(".start pre").forEach(function (pre) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "copy";
    b.textContent = "Copy";
    b.addEventListener("click", function () {
      navigator.clipboard.writeText(pre.textContent).then(function () {
        b.textContent = "Copied";
      });
    });
    pre.after(b);
  });
});
