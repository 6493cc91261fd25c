package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOAuthBrowserFlow is the OAuth story of a web MCP client on esshim,
// against a real authorization server on 127.0.0.1 (npm/oauthserver.mjs:
// the TypeScript SDK's mcpAuthRouter and requireBearerAuth, on another
// origin than the page, answering CORS), with the SDK v2 Client and an
// OAuthClientProvider (testdata/oauth-flow.js):
//   - the full redirect flow, as the user sees it: connect gets a 401, the
//     SDK's auth() (through esshim's sdkAuth) registers the client and
//     redirectToAuthorization navigates the page; the authorization server
//     redirects to the callback page, which calls finishAuth(code),
//     connects with a new transport and calls a tool;
//   - an expired access token: the 401 refreshes it, no redirect;
//   - step-up on 403 insufficient_scope, which needs the user again, with a
//     restart through it: the client is closed while the redirect runs, the
//     flow ends after that and must send nothing (no ghost request of the
//     old lifecycle), then finishAuth and connect(newTransport) succeed.
func TestOAuthBrowserFlow(t *testing.T) {
	t.Parallel()
	mcpURL := startNodeServer(t, nodeBinary(t), "npm/oauthserver.mjs")
	origin := strings.TrimSuffix(mcpURL, "/mcp")
	p := newPage(t, origin+"/oauth.html")

	eval[any](p, `flow.start(), null`)
	// The page navigates to the authorization server, which redirects to
	// /callback, which finishes the flow by itself.
	deadline := time.Now().Add(60 * time.Second)
	for {
		done, err := evalErr[bool](p, `location.pathname === '/callback' && globalThis.callbackResult !== undefined`)
		if err == nil && done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the redirect flow did not finish on /callback (last error: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	type callbackResult struct {
		Echo  string `json:"echo"`
		Error string `json:"error"`
		State struct {
			StartResult string `json:"startResult"`
			Redirects   int    `json:"redirects"`
			Client      struct {
				ClientID string `json:"client_id"`
			} `json:"client"`
		} `json:"state"`
	}
	cb := eval[callbackResult](p, `globalThis.callbackResult`)
	require.Empty(t, cb.Error)
	assert.Equal(t, "after redirect", cb.Echo, "the tool call after finishAuth and reconnect")
	assert.Equal(t, 1, cb.State.Redirects, "one redirect to the authorization server")
	assert.NotEmpty(t, cb.State.Client.ClientID, "registered dynamically")

	type refreshResult struct {
		Echo      string `json:"echo"`
		Changed   bool   `json:"changed"`
		Redirects int    `json:"redirects"`
	}
	rr := eval[refreshResult](p, `flow.refresh()`)
	assert.Equal(t, "after refresh", rr.Echo)
	assert.True(t, rr.Changed, "a new access token")
	assert.Equal(t, 1, rr.Redirects, "no user action: no redirect")

	type stepUpResult struct {
		FirstCall     string `json:"firstCall"`
		Admin         string `json:"admin"`
		OldInflight   int    `json:"oldInflight"`
		OldGoroutines int    `json:"oldGoroutines"`
		Scope         string `json:"scope"`
	}
	su := eval[stepUpResult](p, `flow.stepUpRestart()`)
	assert.Equal(t, "admin ok", su.Admin, "after the step-up and the restart")
	assert.NotEqual(t, "resolved", su.FirstCall, "the call of the closed client does not succeed")
	assert.Zero(t, su.OldInflight, "nothing of the old lifecycle in flight")
	assert.Zero(t, su.OldGoroutines, "nothing of the old lifecycle running")
	assert.ElementsMatch(t, []string{"mcp", "admin"}, strings.Fields(su.Scope), "the union of the old and new scopes")

	var state struct {
		Authorizations []struct {
			Scopes []string `json:"scopes"`
		} `json:"authorizations"`
		TokenGrants []string `json:"tokenGrants"`
		MCP         []struct {
			Method string `json:"method"`
			RPC    string `json:"rpc"`
			Tool   string `json:"tool"`
			Status int    `json:"status"`
		} `json:"mcp"`
	}
	resp, err := http.Get(origin + "/_state")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&state))
	resp.Body.Close()
	assert.Equal(t, []string{"authorization_code", "refresh_token", "authorization_code"}, state.TokenGrants)
	require.Len(t, state.Authorizations, 2)
	assert.ElementsMatch(t, []string{"mcp", "admin"}, state.Authorizations[1].Scopes, "step-up asks for the union")
	var adminCalls []int
	for _, q := range state.MCP {
		if q.RPC == "tools/call" && q.Tool == "admin" {
			adminCalls = append(adminCalls, q.Status)
		}
	}
	assert.Equal(t, []int{403, 200}, adminCalls, "the refused call, then the one of the new lifecycle: no ghost retry")
}
