// The site's script: no inline handlers or scripts in the pages.

// Print links: <a class="print-link" href="#">.
document.addEventListener("click", function (event) {
  var link = event.target.closest("a.print-link");
  if (link) {
    event.preventDefault();
    window.print();
  }
});

// Close an open menu (<details>) when a click lands outside it.
document.addEventListener("click", function (event) {
  var inside = event.target.closest("details");
  document.querySelectorAll("details[open]").forEach(function (details) {
    if (details !== inside && !details.classList.contains("keep-open")) {
      details.open = false;
    }
  });
});
