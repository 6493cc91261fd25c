package e2e

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// site is a test origin on 127.0.0.1 that serves dist/ under /dist/, the
// pages of testdata/ at /, and whatever handlers a test adds.
type site struct {
	*httptest.Server
	mux *http.ServeMux
}

func newSite(t *testing.T) *site {
	t.Helper()
	mux := http.NewServeMux()
	dist := http.StripPrefix("/dist/", http.FileServer(http.Dir("../dist")))
	mux.Handle("/dist/", noCache(dist))
	mux.Handle("/", noCache(http.FileServer(http.Dir("testdata"))))
	s := &site{Server: newLocalServer(t, mux), mux: mux}
	return s
}

// handle adds a handler to the site.
func (s *site) handle(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

// newLocalServer starts h on 127.0.0.1 only, never on other interfaces.
func newLocalServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(h)
	s.Listener = l
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
