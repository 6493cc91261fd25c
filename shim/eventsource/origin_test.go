package eventsource

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOrigin(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://127.0.0.1:8080/events?x=1", "http://127.0.0.1:8080"},
		{"https://example.com/", "https://example.com"},
		{"https://example.com", "https://example.com"},
		{"https://example.com:443/a", "https://example.com"},
		{"http://example.com:80/a", "http://example.com"},
		{"http://example.com:443/a", "http://example.com:443"},
		{"HTTPS://Example.COM/Path", "https://example.com"},
		{"https://user:pass@example.com:8443/a", "https://example.com:8443"},
		{"http://[::1]:3000/a", "http://[::1]:3000"},
		{"http://[::1]/a", "http://[::1]"},
		{"http://example.com?q", "http://example.com"},
		{"http://example.com#f", "http://example.com"},
		{"wss://example.com:443", "wss://example.com"},
		{"data:text/event-stream,data: x", "null"},
		{"file:///tmp/x", "null"},
		{"blob:https://example.com/uuid", "https://example.com"},
		{"blob:null/uuid", "null"},
		{"blob:file:///x", "null"},
		{"relative/path", "null"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			assert.Equal(t, tt.want, origin(tt.url))
		})
	}
}

func TestFetchable(t *testing.T) {
	for url, want := range map[string]bool{
		"http://a/x": true, "HTTPS://a/": true, "data:text/event-stream,data:%20a%0A%0A": true, "blob:http://a/uuid": true,
		"ftp://a/x": false, "javascript:1": false, "mailto:a@b": false, "about:blank": false, "ws://a/": false,
		"file:///etc/passwd": false, "": false, "relative/path": false,
	} {
		assert.Equal(t, want, fetchable(url), url)
	}
}
