// Photos chosen or taken with the camera: shown as thumbnails before they are sent with the report.
(function () {
  "use strict";
  var input = document.getElementById("photos"), list = document.getElementById("photo-previews");
  if (!input || !list) { return; }
  function show() {
    list.textContent = "";
    Array.prototype.forEach.call(input.files, function (file) {
      if (!/^image\//.test(file.type)) { return; }
      var item = document.createElement("li"), img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = file.name;
      img.addEventListener("load", function () { URL.revokeObjectURL(img.src); });
      item.appendChild(img);
      list.appendChild(item);
    });
  }
  input.addEventListener("change", show);
  var form = input.closest("form");
  if (form) { form.addEventListener("reset", function () { list.textContent = ""; }); }
})();
