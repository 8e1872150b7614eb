package artifact

import (
	"strings"
	"testing"
)

func TestRewriteHTML(t *testing.T) {
	sri := map[string]string{"assets/app.js": "sha384-APP", "assets/site.css": "sha384-CSS", "docs/rel.js": "sha384-REL"}
	tests := map[string]struct{ in, want string }{
		"script root path":      {`<script src="/assets/app.js"></script>`, `<script src="/assets/app.js" integrity="sha384-APP"></script>`},
		"script relative":       {`<SCRIPT defer src=rel.js></SCRIPT>`, `<SCRIPT defer src=rel.js integrity="sha384-REL"></SCRIPT>`},
		"stylesheet":            {`<link href='../assets/site.css' rel="stylesheet"/>`, `<link href='../assets/site.css' rel="stylesheet" integrity="sha384-CSS"/>`},
		"query and fragment":    {`<script src="/assets/app.js?v=1#x"></script>`, `<script src="/assets/app.js?v=1#x" integrity="sha384-APP"></script>`},
		"already has integrity": {`<script src="/assets/app.js" integrity="sha384-OLD"></script>`, `<script src="/assets/app.js" integrity="sha384-OLD"></script>`},
		"other origin":          {`<script src="https://cdn.example/assets/app.js"></script>`, `<script src="https://cdn.example/assets/app.js"></script>`},
		"protocol relative":     {`<script src="//cdn.example/assets/app.js"></script>`, `<script src="//cdn.example/assets/app.js"></script>`},
		"unknown file":          {`<script src="/nope.js"></script>`, `<script src="/nope.js"></script>`},
		"icon link":             {`<link rel="icon" href="/assets/site.css">`, `<link rel="icon" href="/assets/site.css">`},
		"inline script text":    {`<script>var s='<script src="/assets/app.js">'</script>`, `<script>var s='<script src="/assets/app.js">'</script>`},
		"unterminated tag":      {`<script src="/assets/app.js"`, `<script src="/assets/app.js"`},
		"escape outside root":   {`<script src="../../../assets/app.js"></script>`, `<script src="../../../assets/app.js" integrity="sha384-APP"></script>`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, _ := rewriteHTML("docs/page.html", []byte(tc.in), sri)
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestRewriteHTMLRecordsRefs(t *testing.T) {
	_, refs := rewriteHTML("index.html", []byte(`<script src="a.js"></script><script src="b.js"></script>`), map[string]string{"a.js": "sha384-A"})
	if refs["a.js"] != "sha384-A" || refs["b.js"] != "" || len(refs) != 2 {
		t.Fatalf("refs = %v", refs)
	}
}

func FuzzRewriteHTML(f *testing.F) {
	f.Add([]byte(`<script src="/a.js"></script><link rel=stylesheet href=b.css>`))
	f.Add([]byte(`<script`))
	f.Add([]byte(`<link rel="modulepreload" href='x' / >`))
	sri := map[string]string{"a.js": "sha384-A", "b.css": "sha384-B", "x": "sha384-X"}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _ := rewriteHTML("index.html", in, sri)
		// Only integrity attributes are ever added.
		stripped := strings.NewReplacer(` integrity="sha384-A"`, "", ` integrity="sha384-B"`, "", ` integrity="sha384-X"`, "").Replace(string(out))
		if len(out) < len(in) || stripped != strings.NewReplacer(` integrity="sha384-A"`, "", ` integrity="sha384-B"`, "", ` integrity="sha384-X"`, "").Replace(string(in)) {
			t.Fatalf("rewrite changed more than integrity attributes:\n%q\n%q", in, out)
		}
	})
}
