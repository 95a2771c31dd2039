// Print links: <a class="print-link" href="#">. No inline handlers in the pages.
document.addEventListener("click", function (event) {
  var link = event.target.closest("a.print-link");
  if (link) {
    event.preventDefault();
    window.print();
  }
});
