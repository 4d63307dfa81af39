// Live Markdown preview for the trainer's editor: the server renders and sanitises, we only show.
(function () {
  "use strict";
  var body = document.querySelector("textarea[data-preview-url]");
  var target = document.getElementById("preview");
  if (!body || !target) return;
  var token = body.form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var timer = null;
  var sent = 0;
  function refresh() {
    var ticket = ++sent;
    var data = new URLSearchParams();
    data.append("body", body.value);
    fetch(body.dataset.previewUrl, {
      method: "POST",
      headers: { "X-CSRFToken": token },
      body: data,
      credentials: "same-origin",
    })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { if (ticket === sent) target.innerHTML = html; })
      .catch(function () { /* keep the last preview; saving still works */ });
  }
  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
})();
