// Starts Swagger UI on /api/docs. A served file, not an inline script: the page's
// Content-Security-Policy runs scripts from this server only. The page's container
// carries the spec URL and OPENAPI_SWAGGER_UI_CONFIG (which wins, as in flask-smorest).
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  var config = { url: container.dataset.specUrl, dom_id: "#swagger-ui-container" };
  window.ui = SwaggerUIBundle(Object.assign(config, JSON.parse(container.dataset.config)));
});
