// A tiny client-side router: every path below is answered by the edge with
// index.html (navigationFallback), and this script picks the view.
const views = {
  "/": () => "<h1>Welcome</h1><p>This page was released through Phoenix: built, signed, deployed atomically.</p>",
  "/about": () => "<h1>About</h1><p>Client-side route: the edge served index.html for /about.</p>",
  "/releases/current": () => `<h1>Release</h1><p>You are looking at release <code>%RELEASE%</code>.</p>`,
};

function render() {
  const view = views[location.pathname] || (() => `<h1>Not found</h1><p>No view for <code>${location.pathname}</code>.</p>`);
  document.getElementById("view").innerHTML = view();
}

document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-link]");
  if (!a) return;
  e.preventDefault();
  history.pushState(null, "", a.getAttribute("href"));
  render();
});
window.addEventListener("popstate", render);
render();
