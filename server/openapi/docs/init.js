// The API reference: the whole API, or one trigger's document with ?url=/hooks/<slug>/openapi.json
// (same-origin paths only).
const asked = new URLSearchParams(location.search).get('url');
window.ui = SwaggerUIBundle({
  url: asked && asked.startsWith('/') && !asked.startsWith('//') ? asked : '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
});
