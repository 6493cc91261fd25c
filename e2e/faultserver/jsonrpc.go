package faultserver

import (
	"bytes"
	"encoding/json"
	"errors"
)

// message is one JSON-RPC 2.0 message, kept raw where the server only
// passes values through.
type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
}

func (m message) isRequest() bool {
	return m.Method != "" && len(m.ID) > 0 && string(m.ID) != "null"
}

func (m message) isNotification() bool { return m.Method != "" && !m.isRequest() }

func (m message) isResponse() bool { return m.Method == "" }

// parseMessages decodes a POST body: one message, or a batch.
func parseMessages(body []byte) (msgs []message, batch bool, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, false, errors.New("empty body")
	}
	if body[0] == '[' {
		if err := json.Unmarshal(body, &msgs); err != nil {
			return nil, true, err
		}
		if len(msgs) == 0 {
			return nil, true, errors.New("empty batch")
		}
		return msgs, true, nil
	}
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, false, err
	}
	return []message{m}, false, nil
}

// result encodes a success response.
func result(id json.RawMessage, res any) []byte {
	return mustMarshal(map[string]any{"jsonrpc": "2.0", "id": id, "result": res})
}

// rpcError encodes an error response.
func rpcError(id json.RawMessage, code int, msg string) []byte {
	return mustMarshal(map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": code, "message": msg}})
}

// notification encodes a notification.
func notification(method string, params any) []byte {
	m := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		m["params"] = params
	}
	return mustMarshal(m)
}

// mustMarshal encodes values built by this package, which always encode.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
