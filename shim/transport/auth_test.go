//go:build !js

package transport

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
)

// authServer is an MCP endpoint behind a bearer token: it answers 401
// without the token "good", and 403 insufficient_scope while the token's
// scope lacks what stepUp demands.
type authServer struct {
	mu       sync.Mutex
	good     string // the token it accepts
	demand   string // non-empty: 403 insufficient_scope, scope=demand, unless granted
	granted  string
	always   int // 401 or 403: refuse every request with it
	getAuth  bool
	getGood  string // when set, the token GET requires instead of good
	authLogs []string
}

func (a *authServer) handle(w http.ResponseWriter, r *http.Request, q seen) {
	a.mu.Lock()
	good, demand, granted, always := a.good, a.demand, a.granted, a.always
	if q.Method == http.MethodGet && a.getGood != "" {
		good = a.getGood
	}
	a.authLogs = append(a.authLogs, q.Method+" "+q.Header.Get("Authorization"))
	a.mu.Unlock()
	refuse403 := func() {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+demand+`", resource_metadata="http://x/.well-known/oauth-protected-resource"`)
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("need scope " + demand))
	}
	switch {
	case always == 401 || q.Header.Get("Authorization") != "Bearer "+good:
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="http://x/.well-known/oauth-protected-resource", scope="read"`)
		w.WriteHeader(http.StatusUnauthorized)
	case always == 403 || (demand != "" && granted != demand && q.Method == http.MethodPost && q.RPC == "tools/call"):
		refuse403()
	default:
		if q.Method == http.MethodGet && a.getAuth {
			startSSE(w, "")
			<-r.Context().Done()
			return
		}
		mcp("")(w, r, q)
	}
}

// oauthClient is a stand-in for the SDK's provider and auth(): the token
// its header hook sends, and an Authorize that "obtains" a new one.
type oauthClient struct {
	mu         sync.Mutex
	token      string
	calls      []AuthChallenge
	grant      func(c *AuthChallenge) (token string, err error)
	authorizeC chan struct{} // closed when Authorize is entered, if set
	block      bool          // Authorize waits for ctx, then succeeds anyway
}

func (o *oauthClient) options() Options {
	return Options{
		HeaderHook: func(shim.Context) (shim.Header, error) {
			o.mu.Lock()
			defer o.mu.Unlock()
			if o.token == "" {
				return shim.Header{}, nil
			}
			return shim.Header{"authorization": "Bearer " + o.token}, nil
		},
		Authorize: func(ctx shim.Context, c *AuthChallenge) error {
			o.mu.Lock()
			o.calls = append(o.calls, *c)
			ch := o.authorizeC
			o.mu.Unlock()
			if ch != nil {
				close(ch)
			}
			if o.block {
				<-ctx.Done()
			}
			o.mu.Lock()
			grant := o.grant
			o.mu.Unlock()
			tok, err := grant(c)
			if err != nil {
				return err
			}
			o.mu.Lock()
			o.token = tok
			o.mu.Unlock()
			return nil
		},
	}
}

func (o *oauthClient) kinds() []AuthKind {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []AuthKind
	for _, c := range o.calls {
		out = append(out, c.Kind)
	}
	return out
}

func grantAlways(tok string) func(*AuthChallenge) (string, error) {
	return func(*AuthChallenge) (string, error) { return tok, nil }
}

func isPOST(q seen) bool { return q.Method == http.MethodPost }

// TestAuthUnauthorizedRetriedOnce: a 401 runs Authorize with the
// challenge, then the request goes out once more with the new token.
func TestAuthUnauthorizedRetriedOnce(t *testing.T) {
	as := &authServer{good: "good"}
	ts := newServer(t, as.handle)
	rec := &recorder{}
	oc := &oauthClient{token: "stale", grant: grantAlways("good")}
	tr := newTransport(t, ts, rec, oc.options())

	require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
	assert.Equal(t, []AuthKind{AuthUnauthorized}, oc.kinds())
	c := oc.calls[0]
	assert.Equal(t, "POST", c.Method)
	assert.Equal(t, 401, c.Status)
	assert.Contains(t, c.WWWAuthenticate, `resource_metadata="http://x/.well-known/oauth-protected-resource"`)
	assert.Equal(t, []string{"POST Bearer stale", "POST Bearer good"}, as.authLogs)
	eventually(t, func() bool { return len(rec.forID(t, "0")) == 1 }, "the retried initialize is answered")
	assert.Empty(t, rec.errors())
	assert.Empty(t, tr.Snapshot().Inflight)

	// A later 401 (the token expired) runs the flow again: the retry
	// budget is per request.
	oc.mu.Lock()
	oc.token = "expired"
	oc.mu.Unlock()
	require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/list"), SendOptions{}))
	assert.Len(t, oc.kinds(), 2)
}

// TestAuthSecond401IsAnError: a 401 after re-authorization is an
// HTTP_ERROR, returned and reported once; Authorize runs once.
func TestAuthSecond401IsAnError(t *testing.T) {
	as := &authServer{good: "good", always: 401}
	ts := newServer(t, as.handle)
	rec := &recorder{}
	oc := &oauthClient{grant: grantAlways("good")}
	tr := newTransport(t, ts, rec, oc.options())

	err := tr.Send(t.Context(), initializeMsg, SendOptions{})
	require.Error(t, err)
	e := asError(err, shim.CodeInternal)
	assert.Equal(t, shim.CodeHTTP, e.Code)
	assert.Equal(t, 401, e.Status)
	assert.Contains(t, e.Message, "401 after re-authentication")
	assert.Equal(t, []AuthKind{AuthUnauthorized}, oc.kinds())
	assert.Equal(t, 2, ts.count(isPOST))
	eventually(t, func() bool { return len(rec.errors()) == 1 }, "reported once")
	assert.Empty(t, tr.Snapshot().Inflight)
	assert.NotContains(t, e.Error(), "good", "no token in errors")
}

// TestAuthFlowError: what Authorize returns (the SDK's UnauthorizedError
// after redirectToAuthorization) is returned and reported as is; the
// request is not sent again.
func TestAuthFlowError(t *testing.T) {
	as := &authServer{good: "good"}
	ts := newServer(t, as.handle)
	rec := &recorder{}
	flowErr := shim.HTTPError(401, "Unauthorized")
	oc := &oauthClient{grant: func(*AuthChallenge) (string, error) { return "", flowErr }}
	tr := newTransport(t, ts, rec, oc.options())

	err := tr.Send(t.Context(), initializeMsg, SendOptions{})
	assert.Same(t, flowErr, err)
	assert.Equal(t, 1, ts.count(isPOST))
	eventually(t, func() bool { return len(rec.errors()) == 1 }, "reported")
	assert.Same(t, flowErr, rec.errors()[0])
}

// TestAuthWithoutAuthorize: with no Authorize, a 401 stays the plain
// HTTP_ERROR it always was.
func TestAuthWithoutAuthorize(t *testing.T) {
	as := &authServer{good: "good"}
	ts := newServer(t, as.handle)
	tr := newTransport(t, ts, &recorder{}, Options{})
	err := tr.Send(t.Context(), initializeMsg, SendOptions{})
	require.Error(t, err)
	assert.Equal(t, 401, asError(err, shim.CodeInternal).Status)
	assert.Equal(t, 1, ts.count(isPOST))
}

// TestAuthStepUp: a 403 insufficient_scope re-authorizes and retries, up
// to MaxStepUpRetries times; then it is an HTTP_ERROR 403. The conformance
// suite's scope-retry-limit allows at most 3 attempts.
func TestAuthStepUp(t *testing.T) {
	for _, tc := range []struct {
		name      string
		max       int
		grantsOK  bool // the step-up grants the scope
		wantPOSTs int
		wantErr   bool
	}{
		{"granted", 0, true, 2, false},
		{"default limit 1", 0, false, 2, true},
		{"limit 2", 2, false, 3, true},
		{"none", -1, false, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := &authServer{good: "good", demand: "write"}
			ts := newServer(t, as.handle)
			rec := &recorder{}
			oc := &oauthClient{token: "good", grant: func(c *AuthChallenge) (string, error) {
				if tc.grantsOK {
					as.mu.Lock()
					as.granted = "write"
					as.mu.Unlock()
				}
				return "good", nil
			}}
			opts := oc.options()
			opts.MaxStepUpRetries = tc.max
			tr := newTransport(t, ts, rec, opts)
			connect(t, tr)
			before := ts.count(isPOST)
			err := tr.Send(t.Context(), rpcRequest(1, "tools/call"), SendOptions{})
			assert.Equal(t, tc.wantPOSTs, ts.count(isPOST)-before)
			if !tc.wantErr {
				require.NoError(t, err)
				eventually(t, func() bool { return len(rec.forID(t, "1")) == 1 }, "answered")
				return
			}
			require.Error(t, err)
			e := asError(err, shim.CodeInternal)
			assert.Equal(t, 403, e.Status)
			assert.Contains(t, e.Message, "insufficient_scope")
			for _, k := range oc.kinds() {
				assert.Equal(t, AuthStepUp, k)
			}
			assert.Empty(t, tr.Snapshot().Inflight)
		})
	}
}

// TestAuthStepUpThrow: onInsufficientScope 'throw' asks Authorize for the
// error instead of re-authorizing, and sends nothing more.
func TestAuthStepUpThrow(t *testing.T) {
	as := &authServer{good: "good", demand: "write"}
	ts := newServer(t, as.handle)
	rec := &recorder{}
	scopeErr := shim.HTTPError(403, "Insufficient scope")
	oc := &oauthClient{token: "good", grant: func(c *AuthChallenge) (string, error) { return "", scopeErr }}
	opts := oc.options()
	opts.StepUp = StepUpThrow
	tr := newTransport(t, ts, rec, opts)
	connect(t, tr)
	before := ts.count(isPOST)
	err := tr.Send(t.Context(), rpcRequest(1, "tools/call"), SendOptions{})
	assert.Same(t, scopeErr, err)
	assert.Equal(t, []AuthKind{AuthInsufficientScope}, oc.kinds())
	assert.Equal(t, 1, ts.count(isPOST)-before)
}

// TestAuthStandaloneGET: a 401 to the standalone GET runs Authorize and
// connects again at once.
func TestAuthStandaloneGET(t *testing.T) {
	// The server wants another token for GET: the first GET is refused.
	as := &authServer{good: "good", getAuth: true, getGood: "newer"}
	ts := newServer(t, as.handle)
	rec := &recorder{}
	oc := &oauthClient{token: "good", grant: grantAlways("newer")}
	tr := newTransport(t, ts, rec, oc.options())
	connect(t, tr)
	eventually(t, func() bool { return standaloneOpen(tr) }, "standalone stream open after authorization")
	assert.Equal(t, []AuthKind{AuthUnauthorized}, oc.kinds())
	assert.Equal(t, "GET", oc.calls[0].Method)
	assert.Empty(t, rec.errors())
}

// TestAuthCloseDuringFlow: Close while Authorize runs ends the request
// with CLOSED, and the flow finishing later sends nothing, neither in the
// closed lifecycle nor in the next.
func TestAuthCloseDuringFlow(t *testing.T) {
	as := &authServer{good: "good"}
	ts := newServer(t, as.handle)
	rec := &recorder{}
	entered := make(chan struct{})
	release := make(chan struct{})
	oc := &oauthClient{authorizeC: entered, grant: func(*AuthChallenge) (string, error) {
		<-release // the flow ignores its ctx and finishes late
		return "good", nil
	}}
	tr := newTransport(t, ts, rec, oc.options())

	sendErr := make(chan error, 1)
	go func() { sendErr <- tr.Send(t.Context(), initializeMsg, SendOptions{}) }()
	<-entered
	done := tr.Close()
	require.NoError(t, tr.Start())
	close(release)
	select {
	case err := <-sendErr:
		assert.Equal(t, shim.CodeClosed, shim.CodeOf(err))
	case <-time.After(5 * time.Second):
		t.Fatal("Send did not return")
	}
	waitDone(t, done)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 1, ts.count(isPOST), "no ghost retry of the old lifecycle")
	assert.Empty(t, tr.Snapshot().Inflight)
}

func TestAuthParam(t *testing.T) {
	for _, tc := range []struct{ header, name, want string }{
		{`Bearer error="insufficient_scope", scope="a b"`, "error", "insufficient_scope"},
		{`Bearer error="insufficient_scope", scope="a b"`, "scope", "a b"},
		{`Bearer realm="x",error=invalid_token`, "error", "invalid_token"},
		{`Bearer scope="x\"y", Error="insufficient_scope"`, "error", "insufficient_scope"},
		{`Bearer resource_metadata="https://h/.well-known/oauth-protected-resource?a=b"`, "error", ""},
		{`Bearer`, "error", ""},
		{``, "error", ""},
		{`Bearer error="unterminated`, "error", "unterminated"},
	} {
		assert.Equal(t, tc.want, authParam(tc.header, tc.name), tc.header)
	}
}
