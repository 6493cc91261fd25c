package e2e

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/esshim/esshim/e2e/faultserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLifecycleTerminateSession: terminateSession() sends DELETE with the
// session id. 200, 204, 404 (already gone) and 405 (not supported) resolve
// and clear the id; any other status rejects with HTTP_ERROR and keeps the
// id, so that the call can be retried.
func TestLifecycleTerminateSession(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 204, 404, 405, 500} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			s := startFaultServer(t, faultserver.Config{DeleteStatus: status, GET: faultserver.GETNotAllowed})
			p := newLifecyclePage(t, s.URL, `{}`)

			type result struct {
				Before    string    `json:"before"`
				Rejected  *lcError  `json:"rejected"`
				SessionID *string   `json:"sessionId"`
				Errors    []lcError `json:"errors"`
			}
			got := eval[result](p, `(async () => {
				await r.connect();
				const before = r.t.sessionId;
				let rejected = null;
				try {
					await r.t.terminateSession();
				} catch (err) {
					rejected = { code: err.code, status: err.status, message: String(err.message), isError: err instanceof Error };
				}
				return { before, rejected, sessionId: r.t.sessionId ?? null, errors: r.errors };
			})()`)

			sess, _ := s.Session()
			deletes := requestsWith(s, func(r faultserver.Request) bool { return r.HTTPMethod == http.MethodDelete })
			require.Len(t, deletes, 1, "DELETE requests")
			assert.Equal(t, got.Before, deletes[0].SessionID, "DELETE carries the session id")
			assert.Equal(t, status, deletes[0].Status)

			if status != 500 {
				assert.Nil(t, got.Rejected, "terminateSession() resolves on %d", status)
				assert.Nil(t, got.SessionID, "the id is cleared")
				assert.Empty(t, got.Errors, "onerror")
				return
			}
			require.NotNil(t, got.Rejected, "terminateSession() rejects on 500")
			assert.Equal(t, "HTTP_ERROR 500", got.Rejected.String())
			assert.True(t, got.Rejected.IsError)
			require.NotNil(t, got.SessionID, "the id is kept for a retry")
			assert.Equal(t, sess.ID, *got.SessionID)
			assert.Equal(t, []string{"HTTP_ERROR 500"}, lcErrorList(got.Errors), "onerror")

			// The retry succeeds once the server lets it.
			s.Configure(func(c *faultserver.Config) { c.DeleteStatus = 0 })
			after := eval[*string](p, `r.t.terminateSession().then(() => r.t.sessionId ?? null)`)
			assert.Nil(t, after, "the id is cleared by the retry")
			deletes = requestsWith(s, func(r faultserver.Request) bool { return r.HTTPMethod == http.MethodDelete })
			require.Len(t, deletes, 2)
			assert.Equal(t, sess.ID, deletes[1].SessionID, "the retry carries the kept id")
			assert.Equal(t, 200, deletes[1].Status)
			ended := s.Sessions()[0]
			assert.True(t, ended.Deleted, "the session ended on the server")
		})
	}
}
