package resolvers_test

import (
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

func TestMeAndAreas(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	user, token := env.NewUser(t, db.RoleDispatcher, "jaipur")

	var got struct {
		Me struct {
			Username string
			Role     string
			Area     struct{ Code string }
		}
		Areas []struct{ Code, Name string }
	}
	env.MustDo(t, token, `{ me { username role area { code } } areas { code name } }`, nil, &got)
	if got.Me.Username != user.Username || got.Me.Role != "DISPATCHER" || got.Me.Area.Code != "jaipur" {
		t.Errorf("me = %+v", got.Me)
	}
	if len(got.Areas) != 10 || got.Areas[4].Name != "Sri Ganganagar" {
		t.Errorf("areas = %+v", got.Areas)
	}

	if code := env.Do(t, "", `{ areas { code } }`, nil).Code(); code != "UNAUTHENTICATED" {
		t.Errorf("areas without a token: code %q, want UNAUTHENTICATED", code)
	}
	if resp := env.Do(t, "not-a-token", `{ me { id } }`, nil); resp.Code() != "UNAUTHENTICATED" || resp.Status != 401 {
		t.Errorf("bad token: status %d code %q", resp.Status, resp.Code())
	}
}
