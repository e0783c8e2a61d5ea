// Starts Swagger UI on the docs page. A file, not an inline script: the Content-Security-Policy allows
// scripts from 'self' only. No validator badge is fetched from validator.swagger.io.
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  window.ui = SwaggerUIBundle({url: container.dataset.specUrl, dom_id: "#swagger-ui-container", validatorUrl: null});
});
