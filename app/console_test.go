package app_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"tracetrack/app"
	"tracetrack/internal/apitest"
	"tracetrack/web"
)

func getWith(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// The console's pages are revalidated on every load; the hashed assets they name are served
// from the binary and cached for a year; nothing comes from another host.
func TestConsoleIsServedFromTheBinary(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	resp, page := getWith(t, env.Server.URL+"/", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("GET / Cache-Control = %q, want no-cache", got)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("GET / Content-Security-Policy = %q", csp)
	}
	if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(page) {
		t.Errorf("the console page loads something from another host:\n%s", page)
	}
	assets := regexp.MustCompile(`/assets/[^"]+\.(js|css)`).FindAllString(page, -1)
	if len(assets) == 0 {
		t.Fatalf("the console page names no assets:\n%s", page)
	}
	for _, asset := range assets {
		resp, body := getWith(t, env.Server.URL+asset, nil)
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %d, %d bytes", asset, resp.StatusCode, len(body))
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s Cache-Control = %q", asset, got)
		}
	}
	for _, path := range []string{"/assets/", "/assets/missing.js", "/nothing-here"} {
		if resp, _ := getWith(t, env.Server.URL+path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// Every file of web/dist is reachable: a page or an asset, none left out of the routes.
func TestEveryBuiltFileIsServed(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	err := fs.WalkDir(web.Dist, "dist", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path, "dist/.vite/") {
			return err
		}
		url := strings.TrimPrefix(path, "dist")
		switch url {
		case "/index.html":
			url = "/"
		case "/graphiql.html":
			url = "/graphiql"
		}
		if resp, _ := getWith(t, env.Server.URL+url, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s (GET %s): %d", path, url, resp.StatusCode)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGraphiQLFollowsIntrospection(t *testing.T) {
	t.Parallel()
	on := apitest.New(t)
	if resp, body := getWith(t, on.Server.URL+"/graphiql", nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "GraphiQL") {
		t.Errorf("GET /graphiql with introspection on: %d", resp.StatusCode)
	}
	off := apitest.New(t, func(o *app.Options) { o.Introspection = false })
	resp, body := getWith(t, off.Server.URL+"/graphiql", nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "INTROSPECTION") {
		t.Errorf("GET /graphiql with introspection off: %d %s, want 404 naming INTROSPECTION", resp.StatusCode, body)
	}
}

// Scripts and styles go out gzipped to clients that accept it, and decompress to the built file.
func TestAssetsAreGzipped(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, page := getWith(t, env.Server.URL+"/", nil)
	asset := regexp.MustCompile(`/assets/[^"]+\.js`).FindString(page)
	want, err := fs.ReadFile(web.Dist, "dist"+asset)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := getWith(t, env.Server.URL+asset, map[string]string{"Accept-Encoding": "gzip, deflate, br"})
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("GET %s: Content-Encoding %q, Content-Type %q", asset, resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"))
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if !bytes.Equal(got, want) {
		t.Errorf("GET %s gzipped: %d bytes after decompression, want the %d of the file", asset, len(got), len(want))
	}
	if len(body) >= len(want) {
		t.Errorf("GET %s: %d bytes gzipped, no smaller than the %d raw", asset, len(body), len(want))
	}
	resp, body = getWith(t, env.Server.URL+asset, map[string]string{"Accept-Encoding": "identity"})
	if resp.Header.Get("Content-Encoding") != "" || body != string(want) {
		t.Errorf("GET %s without gzip: Content-Encoding %q, %d bytes", asset, resp.Header.Get("Content-Encoding"), len(body))
	}
}
