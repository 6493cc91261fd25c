package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/esshim/esshim/e2e/mcpserver"
	"github.com/stretchr/testify/require"
)

// eraServer is an MCP server of the protocol-generation tests with a
// request log: e2e/mcpserver (go-sdk v1.8.0; stateless = 2026-07-28, or
// stateful = 2025 only) or npm/tsserver2.mjs (@modelcontextprotocol/server
// 2.4.0). Both serve their log at stateURL in one shape
// ({ requests: [mcpserver.Request] }).
type eraServer struct {
	name      string
	stateless bool
	mcpURL    string
	stateURL  string
}

func startGoEraServer(t *testing.T, stateless bool) *eraServer {
	t.Helper()
	opts := []mcpserver.Option{mcpserver.WithAllowedOrigin("*")}
	name := "go-sdk stateful"
	if stateless {
		opts = append(opts, mcpserver.WithStateless())
		name = "go-sdk stateless"
	}
	h := mcpserver.NewHandler(opts...)
	t.Cleanup(h.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("/_state", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"requests": h.Requests()})
	})
	mux.Handle("/", h)
	srv := newLocalServer(t, mux)
	return &eraServer{name: name, stateless: stateless, mcpURL: srv.URL + "/mcp", stateURL: srv.URL + "/_state"}
}

func startTS2Server(t *testing.T) *eraServer {
	t.Helper()
	u := startNodeServer(t, nodeBinary(t), "npm/tsserver2.mjs")
	return &eraServer{name: "ts-sdk 2.4.0", stateless: true, mcpURL: u, stateURL: strings.TrimSuffix(u, "/mcp") + "/_state"}
}

// requests returns the server's log of one run's requests.
func (s *eraServer) requests(t *testing.T, run string) []mcpserver.Request {
	t.Helper()
	resp, err := http.Get(s.stateURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	var state struct {
		Requests []mcpserver.Request `json:"requests"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&state))
	return slices.DeleteFunc(state.Requests, func(r mcpserver.Request) bool {
		return !strings.Contains(r.URL, "run="+run)
	})
}

// genRun is what generations-harness.js reports of one run.
type genRun struct {
	Kind                     string      `json:"kind"`
	Mode                     string      `json:"mode"`
	Run                      string      `json:"run"`
	Failed                   string      `json:"failed"`
	Errors                   []string    `json:"errors"`
	Era                      string      `json:"era"`
	ProtocolVersion          string      `json:"protocolVersion"`
	TransportProtocolVersion string      `json:"transportProtocolVersion"`
	SessionID                string      `json:"sessionId"`
	Server                   string      `json:"server"`
	Tools                    []string    `json:"tools"`
	Echo                     string      `json:"echo"`
	Region                   *genOutcome `json:"region"`
	RegionCallerHeaders      *genOutcome `json:"regionCallerHeaders"`
	AbortAt                  time.Time   `json:"abortAt"`
	Cancel                   *genOutcome `json:"cancel"`
	AfterCancel              string      `json:"afterCancel"`
	Cut                      *genOutcome `json:"cut"`
	AfterCut                 string      `json:"afterCut"`
	HasWindow                bool        `json:"hasWindow"`
	Snapshot                 any         `json:"snapshot"`
	Closed                   *tsSnapshot `json:"closed"`
}

// genOutcome is how one call settled, and after how long.
type genOutcome struct {
	MS      float64 `json:"ms"`
	At      float64 `json:"at"` // when it settled, in ms since the epoch
	Text    string  `json:"text"`
	Error   bool    `json:"error"`
	Name    string  `json:"name"`
	Code    any     `json:"code"`
	Message string  `json:"message"`
	Reason  string  `json:"reason"`
}

func (o *genOutcome) String() string {
	if o == nil {
		return "(not run)"
	}
	if !o.Error {
		return strings.TrimSpace(o.Text) + " after " + msString(o.MS)
	}
	return "error " + o.Name + " " + jsonString(o.Code) + " " + o.Message + " after " + msString(o.MS)
}

func msString(ms float64) string { return (time.Duration(ms) * time.Millisecond).String() }

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// encodedZurich is "Zürich" as a header value: non-ASCII travels as
// =?base64?{UTF-8 in base64}?= (SEP-2243).
const encodedZurich = "=?base64?WsO8cmljaA==?="

// settledAt is when o settled.
func (o *genOutcome) settledAt() time.Time { return time.UnixMilli(int64(o.At)) }
