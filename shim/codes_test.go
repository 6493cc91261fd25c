package shim

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The one error-code table is Codes: js/esshim.d.ts must list exactly its
// codes, and js/esshim.js must use no code that it lacks.
func TestCodesAgreeWithJS(t *testing.T) {
	var table []string
	for _, c := range Codes {
		table = append(table, string(c))
	}
	slices.Sort(table)
	assert.Len(t, slices.Compact(slices.Clone(table)), len(Codes), "codes are unique")

	dts, err := os.ReadFile("../js/esshim.d.ts")
	require.NoError(t, err)
	decl := regexp.MustCompile(`(?s)export type ErrorCode =(.*?);`).FindSubmatch(dts)
	require.NotNil(t, decl, "esshim.d.ts declares type ErrorCode")
	var listed []string
	for _, m := range regexp.MustCompile(`'([A-Z_]+)'`).FindAllSubmatch(decl[1], -1) {
		listed = append(listed, string(m[1]))
	}
	slices.Sort(listed)
	assert.Equal(t, table, listed, "ErrorCode in esshim.d.ts lists exactly shim.Codes")

	js, err := os.ReadFile("../js/esshim.js")
	require.NoError(t, err)
	used := regexp.MustCompile(`codedError\('([A-Z_]+)'|codes\.([A-Z_]+)`).FindAllSubmatch(js, -1)
	require.NotEmpty(t, used)
	for _, m := range used {
		code := string(m[1]) + string(m[2])
		assert.Contains(t, table, code, "esshim.js uses a code the Go table lacks")
	}
	assert.False(t, strings.Contains(string(js), "code = '"), "esshim.js sets no code literal by hand")
}
