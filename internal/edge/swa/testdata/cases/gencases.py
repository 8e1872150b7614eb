"""Generates the conformance cases testdata/cases/<site>.json (run: python3 gencases.py).

Each case: request (method, path with optional query, roles, headers, client_ip),
the cloud behaviour we expect (expect), and whether the SWA CLI emulator is
expected to agree ("emulator": "same") or not ("differs: why", spec section 14).
"""
import json, os
OUT = os.path.dirname(os.path.abspath(__file__))
CAPTURE = ["content-type", "cache-control", "location", "allow", "content-security-policy", "x-frame-options",
           "strict-transport-security", "x-content-type-options", "referrer-policy", "permissions-policy",
           "x-global-header", "x-route-rule", "x-site"]
def C(id, path, status, file="", loc="", hdr=None, ct="", method="GET", roles=None, headers=None, ip=None,
      same=True, auth="", api=""):
    c = {"id": id, "method": method, "path": path}
    if roles: c["roles"] = roles
    if headers: c["headers"] = headers
    if ip: c["client_ip"] = ip
    e = {"status": status}
    if file: e["file"] = file
    if loc: e["location"] = loc
    if hdr: e["headers"] = hdr
    if ct: e["content_type"] = ct
    if auth: e["auth_path"] = auth
    if api: e["api_path"] = api
    c["expect"] = e
    c["emulator"] = "same" if same is True else "differs: " + same
    return c
def write(site, cases):
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), site
    json.dump({"site": site, "capture_headers": CAPTURE, "cases": cases}, open(os.path.join(OUT, site + ".json"), "w"), indent=1)
    open(os.path.join(OUT, site + ".json"), "a").write("\n")

AUTHED = ["anonymous", "authenticated"]
IMM = {"cache-control": "public, max-age=31536000, immutable"}
DEF = {"cache-control": "must-revalidate, max-age=30"}
NOSTORE = {"cache-control": "no-store"}  # errors and their redirects, whatever the config's Cache-Control
I = "/index.html"
write("vite-spa", [
  C("root", "/", 200, I, hdr=DEF),
  C("index-html", "/index.html", 200, I),
  C("bundle-js", "/assets/index-4f2a9c.js", 200, "/assets/index-4f2a9c.js", hdr=IMM),
  C("bundle-css", "/assets/index-9b1e3d.css", 200, "/assets/index-9b1e3d.css", hdr=IMM),
  C("asset-png", "/assets/logo-77aa.png", 200, "/assets/logo-77aa.png", hdr=IMM),
  C("bundle-js-query", "/assets/index-4f2a9c.js?v=3", 200, "/assets/index-4f2a9c.js", hdr=IMM),
  C("asset-missing-js", "/assets/index-000000.js", 404, hdr=NOSTORE),
  C("asset-missing-deep", "/assets/chunks/deep.js", 404, hdr=NOSTORE),
  C("asset-missing-noext", "/assets/missing", 404),
  C("assets-dir-noslash", "/assets", 404, same="the emulator treats a folder without index.html as a file and redirects to /assets/"),
  C("assets-dir-slash", "/assets/", 404),
  C("theme-css", "/themes/dark.css", 200, "/themes/dark.css", hdr=DEF),
  C("theme-json-deep", "/themes/light/theme.json", 200, "/themes/light/theme.json"),
  C("theme-missing-css", "/themes/blue.css", 404),
  C("theme-missing-noext", "/themes/blue", 404),
  C("favicon", "/favicon.ico", 200, "/favicon.ico"),
  C("vite-svg", "/vite.svg", 200, "/vite.svg"),
  C("manifest", "/manifest.json", 200, "/manifest.json"),
  C("robots-txt", "/robots.txt", 200, "/robots.txt"),
  C("font-woff2", "/fonts/inter.woff2", 200, "/fonts/inter.woff2"),
  C("font-missing", "/fonts/roboto.woff2", 404),
  C("image-jpg", "/images/hero.jpg", 200, "/images/hero.jpg"),
  C("missing-png-root", "/missing.png", 404),
  C("missing-svg-deep", "/img/icons/missing.svg", 404),
  C("missing-json", "/config/app.json", 404),
  C("missing-gif-upper-ext", "/img/anim.GIF", 404, same="emulator matches extensions case-sensitively and falls back"),
  C("spa-dashboard", "/dashboard", 200, I, hdr=DEF),
  C("spa-deep", "/users/42/edit", 200, I),
  C("spa-trailing-slash", "/dashboard/", 200, I),
  C("spa-query", "/dashboard?tab=billing", 200, I),
  C("spa-accept-json", "/dashboard", 200, I, headers={"Accept": "application/json"}),
  C("spa-html-missing", "/old-page.html", 200, I),
  C("spa-xml-missing", "/sitemap.xml", 200, I),
  C("spa-upper", "/Dashboard/Settings", 200, I),
  C("spa-about", "/about", 200, I),
  C("assets-upper-excluded", "/ASSETS/index-4f2a9c.js", 404),
  C("assets-upper-noext", "/Assets/New", 404, same="emulator matches exclude patterns case-sensitively, so it falls back"),
  C("head-spa", "/dashboard", 200, I, method="HEAD"),
  C("head-asset", "/assets/index-4f2a9c.js", 200, "/assets/index-4f2a9c.js", method="HEAD", hdr=IMM),
  C("post-spa", "/dashboard", 405, method="POST"),
  C("put-asset", "/assets/index-4f2a9c.js", 405, method="PUT"),
  C("delete-root", "/", 405, method="DELETE"),
  C("patch-missing", "/nope", 405, method="PATCH"),
  C("options-spa", "/dashboard", 204, hdr={"allow": "GET, HEAD, OPTIONS"}, method="OPTIONS",
    same="without responseOverrides the emulator answers OPTIONS like GET (200 with a body)"),
  C("config-hidden", "/staticwebapp.config.json", 404),
  C("auth-me", "/.auth/me", 200, auth="/.auth/me"),
  C("auth-login", "/.auth/login/github", 200, auth="/.auth/login/github"),
])

CSP = "default-src 'self'; img-src 'self' data:; script-src 'self'"
SEC = {"content-security-policy": CSP, "x-frame-options": "DENY",
       "strict-transport-security": "max-age=31536000; includeSubDomains", "x-content-type-options": "nosniff",
       "referrer-policy": "strict-origin-when-cross-origin", "permissions-policy": "camera=(), microphone=()"}
MD = "text/markdown; charset=utf-8"
write("legacy-rewrites", [
  C("root-rewrite", "/", 200, "/home.html", hdr=SEC),
  C("index-direct", "/index.html", 200, "/index.html", hdr=SEC),
  C("about-rewrite", "/about", 200, "/pages/about.html", hdr=SEC),
  C("about-upper", "/About", 200, "/pages/about.html", same="emulator matches routes case-sensitively"),
  C("about-slash", "/about/", 404),
  C("blog-post", "/blog/my-first-post", 200, "/blog/post.html", hdr=SEC),
  C("blog-deep", "/blog/2020/01/hello", 200, "/blog/post.html"),
  C("blog-bare-index-alt", "/blog", 200, "/blog/post.html"),
  C("blog-slash", "/blog/", 200, "/blog/post.html"),
  C("legacy-301", "/legacy/home", 301, loc="/"),
  C("contact-302", "/contact-us", 302, loc="/pages/contact.html"),
  C("contact-302-query", "/contact-us?ref=mail", 302, loc="/pages/contact.html"),
  C("readme-rewrite-mime", "/readme", 200, "/README.md", ct=MD, hdr={"content-type": MD}),
  C("readme-direct-mime", "/README.md", 200, "/README.md", ct=MD, hdr={"content-type": MD}),
  C("docs-md-route-header", "/docs/guide.md", 200, "/docs/guide.md", ct=MD,
    hdr={"cache-control": "no-cache", "content-security-policy": CSP, "content-type": MD}),
  C("docs-md-case-file", "/docs/Guide.md", 404),
  C("docs-slash", "/docs/", 200, "/docs/index.html", hdr=SEC),
  C("docs-noslash", "/docs", 200, "/docs/index.html", same="emulator redirects a folder without slash (301 /docs/)"),
  C("embed-header-removed", "/embed/widget.html", 200, "/embed/widget.html",
    hdr={"x-frame-options": "", "content-security-policy": "frame-ancestors *", "referrer-policy": "strict-origin-when-cross-origin"}),
  C("css-global-headers", "/css/site.css", 200, "/css/site.css", hdr=SEC),
  C("missing-404", "/nope", 404),
  C("missing-404-asset", "/css/nope.css", 404),
  C("pages-extensionless", "/pages/about", 200, "/pages/about.html", same="emulator has no extensionless .html lookup"),
  C("pages-html", "/pages/about.html", 200, "/pages/about.html"),
  C("pages-html-slash", "/pages/about.html/", 404),
  C("post-about", "/about", 405, method="POST"),
  C("post-redirect", "/contact-us", 405, method="POST"),
  C("head-readme", "/readme", 200, "/README.md", ct=MD, method="HEAD"),
  C("config-hidden", "/staticwebapp.config.json", 404),
  C("auth-login", "/.auth/login/github", 200, auth="/.auth/login/github"),
])

ADMIN = ["anonymous", "authenticated", "admin"]
MEMBER = ["anonymous", "authenticated", "member"]
def L(p): return "/.auth/login/github?post_login_redirect_uri=" + p
write("auth-roles", [
  C("login-rewrite", "/login", 200, auth="/.auth/login/github"),
  C("logout-redirect", "/logout", 302, loc="/.auth/logout"),
  C("twitter-blocked", "/.auth/login/twitter", 404, "/404.html"),
  C("github-login", "/.auth/login/github", 200, auth="/.auth/login/github"),
  C("auth-me", "/.auth/me", 200, auth="/.auth/me"),
  C("admin-anon", "/admin/", 302, loc=L("%2Fadmin%2F")),
  C("admin-file-anon", "/admin/users.html", 302, loc=L("%2Fadmin%2Fusers.html")),
  C("admin-file-anon-query", "/admin/users.html?page=2", 302, loc=L("%2Fadmin%2Fusers.html%3Fpage%3D2")),
  C("admin-bare-anon", "/admin", 302, loc=L("%2Fadmin")),
  C("admin-upper-anon", "/ADMIN/users.html", 302, loc=L("%2FADMIN%2Fusers.html"), same="emulator matches routes case-sensitively (and the file is not found)"),
  C("admin-signed-in-no-role", "/admin/users.html", 403, "/403.html", roles=AUTHED, same="emulator answers 401 for a signed-in user without the role"),
  C("admin-ok", "/admin/users.html", 200, "/admin/users.html", roles=ADMIN),
  C("admin-dir-ok", "/admin/", 200, "/admin/index.html", roles=ADMIN),
  C("admin-missing-excluded", "/admin/missing.html", 404, "/404.html", roles=ADMIN),
  C("admin-missing-anon", "/admin/missing.html", 302, loc=L("%2Fadmin%2Fmissing.html")),
  C("members-bare-anon", "/members", 302, loc=L("%2Fmembers")),
  C("members-file-anon", "/members/news.html", 302, loc=L("%2Fmembers%2Fnews.html"), same="emulator's /members* regex bug lets this through"),
  C("members-slash-anon", "/members/", 302, loc=L("%2Fmembers%2F"), same="emulator's /members* regex bug lets this through"),
  C("membership-anon", "/membership", 302, loc=L("%2Fmembership"), same="emulator's /members* regex bug lets this through"),
  C("members-file-member", "/members/news.html", 200, "/members/news.html", roles=MEMBER),
  C("members-file-admin", "/members/news.html", 200, "/members/news.html", roles=ADMIN),
  C("members-signed-in-no-role", "/members/news.html", 403, "/403.html", roles=AUTHED, same="emulator's regex bug, and 401 instead of 403"),
  C("reports-slash-anon", "/reports/", 302, loc=L("%2Freports%2F")),
  C("reports-bare-anon", "/reports", 302, loc=L("%2Freports")),
  C("reports-file-anon", "/reports/index.html", 302, loc=L("%2Freports%2Findex.html"), hdr=NOSTORE),
  C("reports-file-auth", "/reports/index.html", 200, "/reports/index.html", roles=AUTHED, hdr={"cache-control": "no-store"}),
  C("reports-slash-auth", "/reports/", 200, "/reports/index.html", roles=AUTHED, hdr={"cache-control": "no-store"}),
  C("public-anon", "/public/info.html", 200, "/public/info.html"),
  C("api-anon", "/api/data", 302, loc=L("%2Fapi%2Fdata")),
  C("api-auth", "/api/data", 200, api="/api/data", roles=AUTHED, same="no API backend runs under the emulator"),
  C("api-post-auth", "/api/items", 200, api="/api/items", method="POST", roles=AUTHED, same="no API backend runs under the emulator"),
  C("upload-get", "/upload", 200, "/upload.html"),
  C("upload-head", "/upload", 200, "/upload.html", method="HEAD"),
  C("upload-post-anon", "/upload", 405, method="POST"),
  C("upload-put-editor", "/upload", 405, method="PUT", roles=["anonymous", "authenticated", "editor"]),
  C("spa-fallback", "/some/client/route", 200, "/index.html"),
  C("spa-fallback-signed-in", "/some/client/route", 200, "/index.html", roles=AUTHED),
  C("root", "/", 200, "/index.html"),
  C("forbidden-page-direct", "/403.html", 200, "/403.html"),
  C("config-hidden", "/staticwebapp.config.json", 404, "/404.html"),
])

NET = "differs: emulator ignores networking and forwardingGateway"
OKH = {"X-Azure-FDID": "fd-123"}
def N(*a, **k):
    k["same"] = "the emulator ignores networking and forwardingGateway"
    return C(*a, **k)
write("networking", [
  N("allowed-range", "/", 200, "/index.html", ip="10.1.2.3", headers=OKH, hdr={"x-site": "net"}),
  N("allowed-single", "/", 200, "/index.html", ip="192.168.1.10", headers=OKH),
  N("allowed-mapped-v6", "/", 200, "/index.html", ip="::ffff:10.9.9.9", headers=OKH),
  N("denied-ip", "/", 403, ip="192.168.1.11", headers=OKH, hdr={"x-site": "net"}),
  N("denied-ip-v6", "/", 403, ip="2001:db8::1", headers=OKH),
  N("denied-ip-override-ignored", "/target.html", 403, ip="8.8.8.8", headers=OKH),
  N("missing-required-header", "/", 403, ip="10.1.2.3"),
  N("wrong-required-header", "/", 403, ip="10.1.2.3", headers={"X-Azure-FDID": "fd-999"}),
  N("required-header-value-case", "/", 403, ip="10.1.2.3", headers={"X-Azure-FDID": "FD-123"}),
  N("required-header-name-case", "/", 200, "/index.html", ip="10.1.2.3", headers={"x-azure-fdid": "fd-123"}),
  N("redirect-relative", "/go", 302, loc="/target.html", ip="10.1.2.3", headers=OKH),
  N("redirect-forwarded-host", "/go", 302, loc="https://www.example.org/target.html", ip="10.1.2.3",
    headers={"X-Azure-FDID": "fd-123", "X-Forwarded-Host": "www.example.org"}),
  N("redirect-unknown-forwarded-host", "/go", 302, loc="/target.html", ip="10.1.2.3",
    headers={"X-Azure-FDID": "fd-123", "X-Forwarded-Host": "evil.example"}),
  N("head-probe-without-header", "/", 403, method="HEAD", ip="10.1.2.3"),
  N("missing-page", "/nope", 404, ip="10.1.2.3", headers=OKH),
])

TS = {
 "default": [("/about", 200, "/about/index.html", "", "emulator redirects a folder without slash"),
             ("/about/", 200, "/about/index.html", "", True),
             ("/about/index.html", 200, "/about/index.html", "", True),
             ("/contact", 200, "/contact.html", "", "emulator has no extensionless .html lookup"),
             ("/contact/", 301, "", "/contact", "emulator has no extensionless .html lookup"),
             ("/contact.html", 200, "/contact.html", "", True)],
 "auto":    [("/about", 301, "", "/about/", True),
             ("/about/", 200, "/about/index.html", "", True),
             ("/about/index.html", 301, "", "/about/", "emulator ignores trailingSlash"),
             ("/contact", 200, "/contact.html", "", "emulator ignores trailingSlash"),
             ("/contact/", 301, "", "/contact", "emulator ignores trailingSlash"),
             ("/contact.html", 301, "", "/contact", "emulator ignores trailingSlash")],
 "always":  [("/about", 301, "", "/about/", True),
             ("/about/", 200, "/about/index.html", "", True),
             ("/about/index.html", 301, "", "/about/", "emulator ignores trailingSlash"),
             ("/contact", 301, "", "/contact/", "emulator ignores trailingSlash"),
             ("/contact/", 200, "/contact.html", "", "emulator ignores trailingSlash"),
             ("/contact.html", 301, "", "/contact/", "emulator ignores trailingSlash")],
 "never":   [("/about", 200, "/about/index.html", "", "emulator ignores trailingSlash"),
             ("/about/", 301, "", "/about", "emulator ignores trailingSlash"),
             ("/about/index.html", 301, "", "/about", "emulator ignores trailingSlash"),
             ("/contact", 200, "/contact.html", "", "emulator ignores trailingSlash"),
             ("/contact/", 301, "", "/contact", "emulator ignores trailingSlash"),
             ("/contact.html", 301, "", "/contact", "emulator ignores trailingSlash")],
}
for mode, rows in TS.items():
    cases = []
    for p, st, f, loc, same in rows:
        name = p.strip("/").replace("/", "-").replace(".", "-") or "root"
        if p.endswith("/"): name += "-slash"
        cases.append(C(name, p, st, f, loc=loc, same=same))
    cases.append(C("root", "/", 200, "/index.html"))
    cases.append(C("index-html", "/index.html", 200 if mode == "default" else 301, "/index.html" if mode == "default" else "",
                   loc="" if mode == "default" else "/", same=True if mode == "default" else "emulator ignores trailingSlash"))
    cases.append(C("query-kept", "/about?x=1", 301 if mode in ("auto", "always") else 200,
                   "" if mode in ("auto", "always") else "/about/index.html",
                   loc="/about/?x=1" if mode in ("auto", "always") else "",
                   same="the emulator's folder redirect drops the query string" if mode in ("auto", "always") else "emulator redirects a folder without slash"))
    write("trailing-" + mode, cases)

write("noconfig", [
  C("root", "/", 200, "/index.html", hdr=DEF),
  C("dir-slash", "/about/", 200, "/about/index.html"),
  C("dir-noslash", "/about", 200, "/about/index.html", same="emulator redirects a folder without slash"),
  C("missing-no-auto-404", "/nope", 404, same="emulator serves the site's /404.html; the cloud shows its own page"),
  C("404-direct", "/404.html", 200, "/404.html"),
  C("post-root", "/", 405, method="POST"),
  C("head-root", "/", 200, "/index.html", method="HEAD"),
])

EX_CT = None
G = {"content-security-policy": "default-src 'self'", "x-global-header": "from-globalHeaders"}
LOGIN = "/.auth/login/github"
ANY = ["anonymous", "authenticated"]
ADM = ["anonymous", "authenticated", "administrator"]
write("example", [
  C("root", "/", 200, "/index.html", hdr=dict(G, **{"cache-control": "must-revalidate, max-age=30"}), headers={"Accept": "text/html"}),
  C("index-html", "/index.html", 200, "/index.html", hdr=G),
  C("query-string", "/index.html?x=1&y=2", 200, "/index.html"),
  C("dir-no-slash", "/about", 200, "/about/index.html", same="emulator redirects a folder without slash"),
  C("dir-slash", "/about/", 200, "/about/index.html"),
  C("dir-index-file", "/about/index.html", 200, "/about/index.html"),
  C("extensionless-file", "/contact", 200, "/contact.html", same="emulator has no extensionless .html lookup"),
  C("file-html", "/contact.html", 200, "/contact.html", hdr=G),
  C("conditional-if-none-match", "/contact.html", 200, "/contact.html", headers={"If-None-Match": "\"SWA-CLI-ETAG\""},
    same="conditional requests (304) are the edge's job, not the rules'"),
  C("encoded-path", "/Mixed/Case%2Ehtml", 200, "/Mixed/Case.html"),
  C("file-trailing-slash", "/contact/", 301, loc="/contact", same="emulator has no extensionless .html lookup"),
  C("redirect-301", "/old-page", 301, loc="/contact.html"),
  C("redirect-default-302", "/temp-redirect", 302, loc="/about/"),
  C("redirect-308-requested", "/perm-308", 308, loc="/contact.html", same="emulator sends 302 for every status but 301"),
  C("redirect-external", "/external", 302, loc="https://example.com/landing"),
  C("rewrite-wildcard-exact-prefix", "/calendar", 200, "/calendar.html"),
  C("rewrite-wildcard-deep", "/calendar/2024/01", 200, "/calendar.html", same="emulator's prefix* regex bug"),
  C("route-case-variant", "/Calendar/2024", 200, "/calendar.html", same="emulator matches routes case-sensitively"),
  C("file-case-variant", "/CONTACT.html", 200, "/index.html"),
  C("file-mixed-case-exact", "/Mixed/Case.html", 200, "/Mixed/Case.html"),
  C("image-route-headers", "/images/logo.png", 200, "/images/logo.png", hdr={"cache-control": "must-revalidate, max-age=15770000"}),
  C("image-missing-excluded", "/images/missing.png", 404, "/custom-404.html"),
  C("image-svg-not-excluded", "/images/icon.svg", 200, "/index.html", hdr={"cache-control": "must-revalidate, max-age=15770000"}),
  C("images-dir-fallback", "/images/", 200, "/index.html", hdr={"cache-control": "must-revalidate, max-age=15770000"}),
  C("css-ext-route", "/css/site.css", 200, "/css/site.css", headers={"Accept-Encoding": "gzip, br"}, hdr={"x-route-rule": "css"}),
  C("css-missing-excluded", "/css/missing.css", 404, "/custom-404.html"),
  C("spa-deep-link-html", "/app/settings/profile", 200, "/index.html", headers={"Accept": "text/html"}),
  C("spa-deep-link-json-accept", "/app/settings/profile", 200, "/index.html", headers={"Accept": "application/json"}),
  C("missing-js-fallback", "/static/missing.js", 200, "/index.html"),
  C("mime-json-override", "/data/info.json", 200, "/data/info.json", ct="text/json", hdr={"content-type": "text/json"}),
  C("mime-custom-ext", "/files/readme.custom", 200, "/files/readme.custom", ct="text/x-custom", hdr={"content-type": "text/x-custom"}),
  C("route-status-404", "/secret.html", 404, "/custom-404.html"),
  C("route-status-404-post", "/secret.html", 404, "/custom-404.html", method="POST"),
  C("route-status-418", "/teapot", 418, "/contact.html"),
  C("header-removed-empty", "/nocsp/page.html", 200, "/nocsp/page.html", hdr={"content-security-policy": "", "x-global-header": "from-globalHeaders"}),
  C("config-file-hidden", "/staticwebapp.config.json", 404, "/custom-404.html"),
  C("root-404-html-direct", "/404.html", 200, "/404.html"),
  C("methods-get-match", "/get-only", 200, "/contact.html"),
  C("methods-head-nomatch", "/get-only", 200, "/index.html", method="HEAD"),
  C("head-file", "/contact.html", 200, "/contact.html", method="HEAD"),
  C("options-file", "/contact.html", 204, method="OPTIONS", hdr={"allow": "GET, HEAD, OPTIONS"}),
  C("post-static-file", "/contact.html", 405, method="POST"),
  C("post-redirect-route", "/old-page", 405, method="POST"),
  C("role-anon-authenticated-route", "/profile", 302, loc=LOGIN),
  C("role-auth-authenticated-route", "/profile", 200, "/profile/index.html", roles=ANY, same="emulator redirects a folder without slash"),
  C("role-anon-prefix-wildcard-slash", "/profile/", 302, loc=LOGIN, same="emulator's prefix* regex bug bypasses allowedRoles"),
  C("role-anon-prefix-wildcard-file", "/profile/index.html", 302, loc=LOGIN, same="emulator's prefix* regex bug bypasses allowedRoles"),
  C("role-anon-prefix-wildcard-sibling", "/profiles", 302, loc=LOGIN, same="emulator's prefix* regex bug bypasses allowedRoles"),
  C("rewrite-wildcard-slash", "/calendar/", 200, "/calendar.html", same="emulator's prefix* regex bug"),
  C("role-anon-admin-route", "/admin/", 302, loc=LOGIN),
  C("role-auth-no-admin", "/admin/", 403, "/forbidden.html", roles=ANY, same="emulator answers 401 for a signed-in user without the role"),
  C("role-admin-ok", "/admin/", 200, "/admin/index.html", roles=ADM),
  C("role-admin-via-dir-no-slash", "/admin", 403, "/forbidden.html", roles=ANY, same="emulator answers 401 for a signed-in user without the role"),
  C("auth-me-anon", "/.auth/me", 200, auth="/.auth/me"),
  C("auth-me-fake-login", "/.auth/me", 200, auth="/.auth/me", roles=ADM),
  C("auth-login-github-page", "/.auth/login/github", 200, auth="/.auth/login/github"),
  C("auth-logout", "/.auth/logout", 200, auth="/.auth/logout", same="the edge answers /.auth/logout itself (the emulator's 302 is its answer)"),
])

M = {"x-global-header": "min"}
write("min", [
  C("min-root", "/", 200, "/index.html", hdr=M),
  C("min-missing-page", "/nope", 404, headers={"Accept": "text/html"}, same="emulator serves the site's /404.html"),
  C("min-missing-asset", "/nope.js", 404, same="emulator serves the site's /404.html"),
  C("min-dir-no-slash", "/about", 301, loc="/about/"),
  C("min-dir-slash", "/about/", 200, "/about/index.html", hdr=M),
  C("min-dir-index", "/about/index.html", 301, loc="/about/", same="emulator ignores trailingSlash"),
  C("min-extensionless", "/contact", 301, loc="/contact/", same="emulator ignores trailingSlash"),
  C("min-file-html", "/contact.html", 301, loc="/contact/", same="emulator ignores trailingSlash"),
  C("min-file-slash", "/contact/", 200, "/contact.html", same="emulator ignores trailingSlash"),
  C("min-route-403", "/blocked", 403),
  C("min-members-anon", "/members/x.html", 401),
  C("min-members-wrong-role", "/members/x.html", 403, roles=["anonymous", "authenticated"], same="emulator answers 401 for a signed-in user without the role"),
  C("min-members-ok-missing", "/members/x.html", 404, roles=["anonymous", "authenticated", "member"], same="emulator serves the site's /404.html"),
  C("min-options", "/contact.html", 301, loc="/contact/", method="OPTIONS", same="emulator ignores trailingSlash"),
  C("min-head", "/contact.html", 301, loc="/contact/", method="HEAD", same="emulator ignores trailingSlash"),
  C("min-delete", "/contact.html", 405, method="DELETE"),
])
