//go:build !js

package eventsource

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
)

// TestRedirectToAnotherOriginKeepsHeadersHome: the application's headers
// and body belong to the origin of the URL they were given for. Once a
// redirect led the connection to another origin, its reconnections go back
// to its own URL (which redirects again), never straight to the other
// origin with them; shared and exclusive alike. Without headers or body,
// reconnections go where the redirect led, as the spec and Chromium do.
func TestRedirectToAnotherOriginKeepsHeadersHome(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		homeCalls int // requests the application's URL sees for the far end's 4
	}{
		{name: "headers, shared", opts: Options{Header: shim.Header{"Authorization": "Bearer X"}}, homeCalls: 4},
		{name: "headers, exclusive", opts: Options{Header: shim.Header{"Authorization": "Bearer X"}, Exclusive: true}, homeCalls: 4},
		{name: "body", opts: Options{Method: "POST", Body: []byte("{}")}, homeCalls: 4},
		{name: "no headers, no body: where the redirect led", opts: Options{}, homeCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			far := newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
				if req.n > 3 {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				startStream(w)
				send(w, "data: far\n\n")
			})
			home := newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, far.URL+"/stream", http.StatusTemporaryRedirect)
			})
			require.NotEqual(t, origin(home.URL), origin(far.URL))
			opts := tt.opts
			opts.URL, opts.Fetcher, opts.Reconnect = home.URL+"/events", fetcher(), fast
			rec := &recorder{}
			src := NewPool().Open(opts, rec.listener())
			c := connOf(src)
			rec.waitFor(t, "error:CLOSED", 1)
			settle(t, c, src)

			assert.Equal(t, 3, rec.count("message:far:"), "every connection reached the far end")
			assert.Len(t, far.requests(), 4)
			assert.Len(t, home.requests(), tt.homeCalls, "requests to the application's URL")
			for _, req := range home.requests() {
				if v, ok := tt.opts.Header["Authorization"]; ok {
					assert.Equal(t, v, req.header.Get("Authorization"), "the application's headers go to its own origin")
				}
			}
		})
	}
}
