// Starts Swagger UI on this server's own OpenAPI document. Same origin as the API, so "Try it out"
// needs no CORS. The token pasted into "Authorize" (the Bearer scheme) is kept only for this tab
// (persistAuthorization is off): an access token is a credential, and it expires in minutes anyway.
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/api/schema/",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    persistAuthorization: false,
    tryItOutEnabled: false,
    displayRequestDuration: true,
    validatorUrl: null,
  });
});
