package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScan(t *testing.T) {
	tests := []struct {
		name     string
		msg      string
		want     Envelope
		request  bool
		response bool
		wantErr  bool
	}{
		{name: "request with number id", msg: `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}`,
			want: Envelope{ID: "7", Method: "tools/call"}, request: true},
		{name: "request with string id", msg: `{"jsonrpc":"2.0","id":"a\"b","method":"ping"}`,
			want: Envelope{ID: `"a\"b"`, Method: "ping"}, request: true},
		{name: "notification", msg: `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			want: Envelope{Method: "notifications/initialized"}},
		{name: "result response", msg: `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"}]\"{["}]}}`,
			want: Envelope{ID: "1", HasResult: true}, response: true},
		{name: "error response with null id", msg: `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`,
			want: Envelope{ID: "null", HasError: true}, response: true},
		{name: "fields in any order, white space", msg: " {\n \"result\" : [1, 2, {\"id\": 99}],\t\"id\" : -1.5e3 } ",
			want: Envelope{ID: "-1.5e3", HasResult: true}, response: true},
		{name: "escaped key and method", msg: `{"\u0069d":3,"meth\u006fd":"a\nb\u00e9\ud83d\ude00"}`,
			want: Envelope{ID: "3", Method: "a\nb\u00e9\U0001F600"}, request: true},
		{name: "backslashes before a quote", msg: `{"id":"x\\\\","method":"m\\"}`,
			want: Envelope{ID: `"x\\\\"`, Method: `m\`}, request: true},
		{name: "nested id is not the id", msg: `{"params":{"id":5,"method":"no"},"method":"yes"}`,
			want: Envelope{Method: "yes"}},
		{name: "literals", msg: `{"a":true,"b":false,"c":null,"id":2,"result":null}`,
			want: Envelope{ID: "2", HasResult: true}, response: true},
		{name: "empty object", msg: `{}`, want: Envelope{}},
		{name: "array is not a message", msg: `[1]`, wantErr: true},
		{name: "unterminated string", msg: `{"id":"abc}`, wantErr: true},
		{name: "mismatched brackets", msg: `{"params":[1,2},"id":1}`, wantErr: true},
		{name: "object id", msg: `{"id":{"x":1}}`, wantErr: true},
		{name: "method not a string", msg: `{"method":5}`, wantErr: true},
		{name: "missing colon", msg: `{"id" 1}`, wantErr: true},
		{name: "trailing garbage", msg: `{"id":1} x`, wantErr: true},
		{name: "bad literal", msg: `{"id":1,"result":nul}`, wantErr: true},
		{name: "bad number", msg: `{"id":-}`, wantErr: true},
		{name: "truncated", msg: `{"id":1,`, wantErr: true},
		{name: "empty", msg: ``, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := Scan(tt.msg)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want.ID, env.ID)
			assert.Equal(t, tt.want.Method, env.Method)
			assert.Equal(t, tt.want.HasResult, env.HasResult)
			assert.Equal(t, tt.want.HasError, env.HasError)
			assert.Equal(t, tt.request, env.IsRequest())
			assert.Equal(t, tt.response, env.IsResponse())
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    []string
		batch   bool
		wantErr bool
	}{
		{name: "single", text: `{"id":1}`, want: []string{`{"id":1}`}},
		{name: "batch", text: ` [ {"id":1} , {"id":"]","a":[[]]} ] `, want: []string{`{"id":1}`, `{"id":"]","a":[[]]}`}, batch: true},
		{name: "empty batch", text: `[]`, want: nil, batch: true},
		{name: "unterminated batch", text: `[{"id":1}`, batch: true, wantErr: true},
		{name: "missing comma", text: `[{} {}]`, batch: true, wantErr: true},
		{name: "blank", text: "  ", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, batch, err := Split(tt.text)
			assert.Equal(t, tt.batch, batch)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestWithID(t *testing.T) {
	msg := `{"jsonrpc":"2.0", "id" : "old" ,"result":{}}`
	env, err := Scan(msg)
	require.NoError(t, err)
	got := WithID(msg, env, "42")
	assert.Equal(t, `{"jsonrpc":"2.0", "id" : 42 ,"result":{}}`, got)
	env2, err := Scan(got)
	require.NoError(t, err)
	assert.Equal(t, "42", env2.ID)

	noID := `{"method":"x"}`
	env, err = Scan(noID)
	require.NoError(t, err)
	assert.Equal(t, noID, WithID(noID, env, "1"), "a message without id is left alone")
}

func TestErrorResponse(t *testing.T) {
	tests := []struct {
		name, id, message, reason string
		wantID                    any
	}{
		{name: "number id", id: "12", message: "stream lost", reason: ReasonStreamLost, wantID: float64(12)},
		{name: "string id", id: `"r-1"`, message: "session expired", reason: ReasonSessionExpired, wantID: "r-1"},
		{name: "no id", id: "", message: "x", reason: "y", wantID: nil},
		{name: "message needing escapes", id: "1", message: "quote \" backslash \\ nl \n ctl \x01 bad \xff é", reason: "r", wantID: float64(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := ErrorResponse(tt.id, CodeConnectionLost, tt.message, tt.reason)
			var got struct {
				JSONRPC string `json:"jsonrpc"`
				ID      any    `json:"id"`
				Error   struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
					Data    struct {
						Reason string `json:"reason"`
					} `json:"data"`
				} `json:"error"`
			}
			require.NoError(t, json.Unmarshal([]byte(text), &got), text)
			assert.Equal(t, "2.0", got.JSONRPC)
			assert.Equal(t, tt.wantID, got.ID)
			assert.Equal(t, -32000, got.Error.Code)
			assert.Equal(t, validUTF8(tt.message), got.Error.Message)
			assert.Equal(t, tt.reason, got.Error.Data.Reason)
			env, err := Scan(text)
			require.NoError(t, err)
			assert.True(t, env.HasError)
		})
	}
}

// FuzzScan checks the scanner against encoding/json: on any input it must
// not panic, and on every valid JSON object it must find the same id,
// method and response members as a full decoder.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`,
		`{"id":"x\"y","result":{"a":[1,{"b":"]"}]}}`,
		`{"method":"n\u00e9","error":null}`,
		`[{"id":1},{"id":2}]`,
		`{"id":-0.5e+2}`,
		`{"a":"\\","id":null}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		env, err := Scan(s)
		if msgs, _, serr := Split(s); serr == nil {
			for _, m := range msgs {
				_, _ = Scan(m)
			}
		}
		if !json.Valid([]byte(s)) {
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(s), &obj) != nil || obj == nil {
			if err == nil {
				t.Fatalf("Scan accepted a non-object: %q", s)
			}
			return
		}
		if hasDuplicateKeys(s) {
			return // which duplicate wins is undefined in JSON
		}
		rawID, hasID := obj["id"]
		idOK := !hasID || validID(string(bytes.TrimSpace(rawID)))
		var method string
		methodOK := true
		if m, ok := obj["method"]; ok {
			methodOK = json.Unmarshal(m, &method) == nil
		}
		if !idOK || !methodOK {
			if err == nil {
				t.Fatalf("Scan accepted a bad id or method: %q", s)
			}
			return
		}
		if err != nil {
			t.Fatalf("Scan(%q): %v", s, err)
		}
		if hasID && env.ID != string(rawID) {
			t.Fatalf("id: got %q, want %q", env.ID, rawID)
		}
		// encoding/json replaces invalid UTF-8; compare in its terms.
		if validUTF8(env.Method) != method {
			t.Fatalf("method: got %q, want %q", env.Method, method)
		}
		_, hasResult := obj["result"]
		_, hasError := obj["error"]
		if env.HasResult != hasResult || env.HasError != hasError {
			t.Fatalf("response members: got %v/%v, want %v/%v", env.HasResult, env.HasError, hasResult, hasError)
		}
	})
}

// validUTF8 replaces each invalid byte by U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\ufffd")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// hasDuplicateKeys reports whether the top-level object repeats a key.
func hasDuplicateKeys(s string) bool {
	dec := json.NewDecoder(strings.NewReader(s))
	if _, err := dec.Token(); err != nil {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		k, _ := tok.(string)
		if seen[k] {
			return true
		}
		seen[k] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}

func BenchmarkScanLargeResult(b *testing.B) {
	big := `{"jsonrpc":"2.0","id":9,"result":{"content":[{"type":"text","text":"` + strings.Repeat("abcdefgh", 1<<20) + `"}]}}`
	b.SetBytes(int64(len(big)))
	for b.Loop() {
		env, err := Scan(big)
		if err != nil || env.ID != "9" {
			b.Fatal(err)
		}
	}
}

func TestMember(t *testing.T) {
	obj := `{"params":{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}},"n":5,"dup":1,"dup":"last","\u006bey":"esc"}`
	tests := []struct {
		obj, key, want string
		ok             bool
	}{
		{obj, "n", "5", true},
		{obj, "params", `{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`, true},
		{obj, "dup", `"last"`, true},
		{obj, "key", `"esc"`, true},
		{obj, "name", "", false}, // nested members are not members
		{obj, "missing", "", false},
		{"", "n", "", false},
		{`[1,2]`, "n", "", false},
		{`{"n":1`, "n", "", false}, // unterminated
	}
	for _, tc := range tests {
		got, ok := Member(tc.obj, tc.key)
		assert.Equal(t, tc.ok, ok, tc.key)
		assert.Equal(t, tc.want, got, tc.key)
	}
	meta, _ := Member(tests[1].want, "_meta")
	raw, _ := Member(meta, "io.modelcontextprotocol/protocolVersion")
	v, ok := String(raw)
	assert.True(t, ok)
	assert.Equal(t, "2026-07-28", v)
	_, ok = String("5")
	assert.False(t, ok)
	v, ok = String(`"caf\u00e9"`)
	assert.True(t, ok)
	assert.Equal(t, "café", v)
}
