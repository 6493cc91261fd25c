//go:build !js

package shim_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/httpfetch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a server on its own 127.0.0.1 port (its own origin) that
// records what reached it and answers what its handler says.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []http.Header
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	r := &recorder{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.seen = append(r.seen, req.Header.Clone())
		r.mu.Unlock()
		h(w, req)
	}))
	r.Listener = l
	r.Start()
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) requests() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.seen...)
}

func ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }

func redirectTo(url string, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/final" {
			w.WriteHeader(200)
			return
		}
		http.Redirect(w, r, url, status)
	}
}

func TestRedirectPolicy(t *testing.T) {
	other := newRecorder(t, ok)
	bound := shim.Header{"mcp-session-id": "s1", "authorization": "Bearer x"}
	tests := []struct {
		name        string
		policy      shim.RedirectPolicy
		method      string
		status      int
		sameOrigin  bool // the redirect stays on the endpoint's origin
		originBound bool
		wantCode    shim.Code // "" = the request succeeds
		wantOther   int       // requests that reach the other origin
	}{
		{"same-origin POST 307 cross-origin", shim.RedirectSameOrigin, "POST", 307, false, true, shim.CodeRedirectBlocked, 0},
		{"same-origin GET 302 cross-origin", shim.RedirectSameOrigin, "GET", 302, false, true, shim.CodeRedirectBlocked, 0},
		{"same-origin DELETE 308 cross-origin", shim.RedirectSameOrigin, "DELETE", 308, false, false, shim.CodeRedirectBlocked, 0},
		{"same-origin POST 307 within origin", shim.RedirectSameOrigin, "POST", 307, true, true, "", 0},
		{"same-origin GET 301 within origin", shim.RedirectSameOrigin, "GET", 301, true, true, "", 0},
		{"same-origin POST 303 within origin changes the method", shim.RedirectSameOrigin, "POST", 303, true, true, shim.CodeRedirectBlocked, 0},
		{"follow POST with session cross-origin", shim.RedirectFollow, "POST", 307, false, true, shim.CodeRedirectBlocked, 0},
		{"follow GET with Last-Event-ID cross-origin", shim.RedirectFollow, "GET", 307, false, true, shim.CodeRedirectBlocked, 0},
		{"follow POST without state cross-origin", shim.RedirectFollow, "POST", 307, false, false, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(other.requests())
			var endpoint *recorder
			if tt.sameOrigin {
				endpoint = newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
					redirectTo("/final", tt.status)(w, r)
				})
			} else {
				endpoint = newRecorder(t, redirectTo(other.URL+"/mcp", tt.status))
			}
			h := shim.Header{"accept": "application/json"}
			if tt.originBound {
				h = bound.Clone()
			}
			req := &shim.Request{Method: tt.method, URL: endpoint.URL + "/mcp", Header: h}
			if tt.method == "POST" {
				req.Body = []byte(`{}`)
			}
			resp, err := tt.policy.Fetch(shim.Background(), httpfetch.New(nil), req, tt.originBound)
			if tt.wantCode != "" {
				require.Error(t, err)
				assert.Equal(t, tt.wantCode, shim.CodeOf(err))
				assert.Equal(t, tt.status, err.(*shim.Error).Status)
			} else {
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, 200, resp.Status)
			}
			assert.Len(t, other.requests()[n:], tt.wantOther, "requests that reached the other origin")
			for _, seen := range other.requests()[n:] {
				assert.Empty(t, seen.Get("Mcp-Session-Id"))
				assert.Empty(t, seen.Get("Authorization"))
			}
			if tt.sameOrigin && tt.wantCode == "" {
				got := endpoint.requests()
				require.Len(t, got, 2, "the request and its same-origin redirect")
				assert.Equal(t, "s1", got[1].Get("Mcp-Session-Id"), "same-origin redirects keep the session")
			}
		})
	}
}

// A browser answers a "manual" redirect with an opaque response that hides
// its target: it is never followed, under either policy.
func TestRedirectOpaque(t *testing.T) {
	calls := 0
	f := shim.FetcherFunc(func(_ shim.Context, req *shim.Request) (*shim.Response, error) {
		calls++
		assert.Equal(t, "manual", req.Redirect)
		return &shim.Response{OpaqueRedirect: true}, nil
	})
	for _, p := range []shim.RedirectPolicy{shim.RedirectSameOrigin, shim.RedirectFollow} {
		_, err := p.Fetch(shim.Background(), f, &shim.Request{Method: "POST", URL: "http://127.0.0.1:1/mcp"}, true)
		assert.Equal(t, shim.CodeRedirectBlocked, shim.CodeOf(err))
		assert.Contains(t, err.Error(), p.String())
	}
	assert.Equal(t, 2, calls)
	// Without origin-bound state, 'follow' leaves the redirect to fetch.
	g := shim.FetcherFunc(func(_ shim.Context, req *shim.Request) (*shim.Response, error) {
		assert.Equal(t, "follow", req.Redirect)
		return &shim.Response{Status: 200}, nil
	})
	_, err := shim.RedirectFollow.Fetch(shim.Background(), g, &shim.Request{URL: "http://127.0.0.1:1/mcp"}, false)
	assert.NoError(t, err)
}

func TestRedirectLoopIsBounded(t *testing.T) {
	var endpoint *recorder
	endpoint = newRecorder(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/again", 307) })
	_, err := shim.RedirectSameOrigin.Fetch(shim.Background(), httpfetch.New(nil), &shim.Request{URL: endpoint.URL + "/mcp"}, true)
	assert.Equal(t, shim.CodeRedirectBlocked, shim.CodeOf(err))
	assert.Len(t, endpoint.requests(), 6, "the request and 5 redirects")
}

func TestWithinOrigin(t *testing.T) {
	f := shim.FetcherFunc(func(_ shim.Context, req *shim.Request) (*shim.Response, error) {
		if req.URL == "http://a.example/mcp" {
			return &shim.Response{Status: 308, Location: "https://a.example/mcp"}, nil
		}
		return &shim.Response{Status: 200, URL: req.URL}, nil
	})
	resp, err := shim.RedirectSameOrigin.Fetch(shim.Background(), f, &shim.Request{URL: "http://a.example/mcp"}, true)
	require.NoError(t, err, "http to https on the same host with default ports stays within the origin")
	assert.Equal(t, "https://a.example/mcp", resp.URL)

	g := shim.FetcherFunc(func(_ shim.Context, req *shim.Request) (*shim.Response, error) {
		return &shim.Response{Status: 307, Location: "http://user:pw@a.example/mcp"}, nil
	})
	_, err = shim.RedirectSameOrigin.Fetch(shim.Background(), g, &shim.Request{URL: "http://a.example/mcp"}, true)
	assert.Equal(t, shim.CodeRedirectBlocked, shim.CodeOf(err), "a redirect that adds userinfo is not followed")
}
