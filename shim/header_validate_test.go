package shim

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateHeader(t *testing.T) {
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"Authorization", "Bearer good", true},
		{"x-custom_1.~!#$%&'*+^`|", "v", true},
		{"mcp-session-id", "caf\xe9-\xff", true}, // a ByteString: any byte but NUL, CR, LF
		{"x-empty", "", true},
		{"x-tab", "a\tb", true},
		{"X-Evil", "a\r\nb", false},
		{"X-Evil", "a\nb", false},
		{"X-Evil", "a\rb", false},
		{"X-Evil", "a\x00b", false},
		{"", "v", false},
		{"X Evil", "v", false},
		{"X:Evil", "v", false},
		{"X-Ünicode", "v", false},
		{"X-(paren)", "v", false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			err := ValidateHeader(tt.name, tt.value)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, CodeInvalidHeader, CodeOf(err))
			assert.Contains(t, err.Error(), QuoteName(tt.name), "the error names the header")
			if len(tt.value) > 3 {
				assert.NotContains(t, err.Error(), tt.value, "the error never shows the value")
			}
		})
	}
}

func TestHeaderValidateNeverShowsTheValue(t *testing.T) {
	h := Header{"authorization": "Bearer secret-token", "x-evil": "secret-token\r\nInjected: 1"}
	err := h.Validate()
	require.Error(t, err)
	assert.Equal(t, CodeInvalidHeader, CodeOf(err))
	assert.Contains(t, err.Error(), `"x-evil"`)
	assert.False(t, strings.Contains(err.Error(), "secret"), err.Error())
	assert.NoError(t, Header{"authorization": "Bearer secret-token"}.Validate())
}
