// The SQL editor of the query pages (CodeMirror, served by Datasette).
window.addEventListener("load", function () {
  var input = document.querySelector("textarea#sql-editor");
  var format = document.querySelector("button#sql-format");
  if (!input || typeof CodeMirror === "undefined") {
    return;
  }
  var editor = CodeMirror.fromTextArea(input, { lineNumbers: true, mode: "text/x-sql", lineWrapping: true });
  editor.setOption("extraKeys", {
    "Shift-Enter": function () { input.form.submit(); },
    Tab: false
  });
  if (format && typeof sqlFormatter !== "undefined") {
    format.hidden = false;
    format.addEventListener("click", function () { editor.setValue(sqlFormatter.format(editor.getValue())); });
  }
  if (typeof cmResize !== "undefined") {
    cmResize(editor, { resizableWidth: false });
  }
});
