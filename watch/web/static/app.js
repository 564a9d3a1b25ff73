// Filters that are lists apply as soon as one is chosen. Everything works
// without this script; it only saves a click.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select.autosubmit").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
});
