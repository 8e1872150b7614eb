package swa

import "strings"

// resolve finds the file for target. It returns the file to serve, or a
// canonical URL to redirect to (301) under the trailingSlash rules, or
// neither when nothing exists. Canonical redirects apply only to request
// paths, not to rewrite targets.
//
// Defaults (no trailingSlash): "/dir" and "/dir/" serve dir/index.html,
// "/page" serves page.html, "/page/" redirects to "/page".
func (c *Config) resolve(target string, rewritten bool, fs FileSystem) (file, canon string) {
	mode := c.trailing
	if rewritten {
		mode = trailingDefault
	}
	if strings.HasSuffix(target, "/") {
		return c.resolveSlash(target, rewritten, mode, fs)
	}
	if fs.Exists(target) {
		return target, c.canonicalFile(target, mode, rewritten)
	}
	{
		if idx := target + "/index.html"; fs.Exists(idx) {
			if mode == trailingAuto || mode == trailingAlways {
				return "", target + "/"
			}
			return idx, ""
		}
		if page := target + ".html"; fs.Exists(page) {
			if mode == trailingAlways {
				return "", target + "/"
			}
			return page, ""
		}
	}
	return "", ""
}

func (c *Config) resolveSlash(target string, rewritten bool, mode trailingMode, fs FileSystem) (file, canon string) {
	if target == "/" {
		if fs.Exists("/index.html") {
			return "/index.html", ""
		}
		return "", ""
	}
	bare := target[:len(target)-1]
	if idx := target + "index.html"; fs.Exists(idx) {
		if mode == trailingNever {
			return "", bare
		}
		return idx, ""
	}
	if page := bare + ".html"; !strings.HasSuffix(bare, "/") && fs.Exists(page) {
		if mode == trailingAlways || rewritten {
			return page, ""
		}
		return "", bare
	}
	return "", ""
}

// canonicalFile returns the redirect for a direct request of an .html file
// under trailingSlash auto/always/never, or "".
func (c *Config) canonicalFile(file string, mode trailingMode, rewritten bool) string {
	if rewritten || mode == trailingDefault || !strings.HasSuffix(file, ".html") {
		return ""
	}
	if strings.HasSuffix(file, "/index.html") {
		dir := file[:len(file)-len("index.html")]
		if mode == trailingNever && dir != "/" {
			return dir[:len(dir)-1]
		}
		return dir
	}
	bare := file[:len(file)-len(".html")]
	if mode == trailingAlways {
		return bare + "/"
	}
	return bare
}
