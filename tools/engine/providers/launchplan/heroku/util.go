package heroku

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	heroku "github.com/heroku/heroku-go/v5"

	"launchplan.local/providers/internal/core"
)

// isNotFound reports a 404 / not_found answer.
func isNotFound(err error) bool {
	var he heroku.Error
	if errors.As(err, &he) {
		return he.StatusCode == 404 || he.ID == "not_found"
	}
	return false
}

// apiError turns a failed call into a message naming the resource, what was
// being done, Heroku's answer and what to do about it. Never pass secret
// values in action.
func apiError(req *core.Request, c *client, action string, err error) error {
	if err == nil {
		return nil
	}
	who := fmt.Sprintf("%s %q", req.Token, req.Name)
	var he heroku.Error
	if errors.As(err, &he) {
		hint := ""
		switch {
		case he.StatusCode == 401:
			hint = "the API key was refused: set a valid one with `pulumi config set --secret heroku:apiKey` (create one with `heroku authorizations:create`) or HEROKU_API_KEY"
		case he.StatusCode == 403:
			hint = "the account behind heroku:apiKey may not do this: check its team membership and permissions"
		case he.StatusCode == 404:
			hint = "it no longer exists on Heroku (removed outside Pulumi?): run `pulumi refresh` to update the state"
		case he.StatusCode == 422:
			hint = "Heroku refused the values: fix the property the message names and run again"
		case he.StatusCode == 429:
			hint = "the Heroku API rate limit (4500 requests/hour) is still exhausted after retrying: wait a few minutes and run again"
		case he.StatusCode >= 500:
			hint = "Heroku answered with a server error even after retrying: run again later (https://status.heroku.com)"
		}
		msg := fmt.Sprintf("%s: %s: Heroku answered %d %s: %s", who, action, he.StatusCode, he.ID, strings.TrimSpace(he.Error()))
		if hint != "" {
			msg += "; " + hint
		}
		return errors.New(msg)
	}
	var ue *url.Error
	if errors.As(err, &ue) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %s: cannot reach the Heroku API at %s (%v); check heroku:url / HEROKU_API_URL and the network",
			who, action, c.url, ue.Err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %s: timed out (%v); raise the resource's customTimeouts or the provider's timeouts and run again", who, action, err)
	}
	return fmt.Errorf("%s: %s: %w", who, action, err)
}

// waitFor polls check until it reports done, with a growing interval
// (250ms doubling to 5s), until ctx ends or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, check func() (done bool, err error)) error {
	deadline := time.Now().Add(timeout)
	interval := 250 * time.Millisecond
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		if timeout > 0 && time.Now().After(deadline) {
			return fmt.Errorf("still not ready after %s", timeout)
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if interval *= 2; interval > 5*time.Second {
			interval = 5 * time.Second
		}
	}
}

// pause sleeps d unless ctx ends first (upstream's post-create delays).
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// configVars reads an app's config vars (null values dropped).
func configVars(ctx context.Context, c *client, app string) (map[string]string, error) {
	vars, err := c.api.ConfigVarInfoForApp(ctx, app)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range vars {
		if v != nil {
			out[k] = *v
		}
	}
	return out, nil
}

// updateVars sends one PATCH: keys of olds that are not in news are
// deleted (null), news are set; then waits for the release it made.
func updateVars(ctx context.Context, req *core.Request, c *client, app string, olds, news map[string]string) error {
	patch := map[string]*string{}
	for k := range olds {
		if _, keep := news[k]; !keep {
			patch[k] = nil
		}
	}
	for k, v := range news {
		if old, had := olds[k]; had && old == v {
			continue
		}
		v := v
		patch[k] = &v
	}
	if len(patch) == 0 {
		return nil
	}
	if _, err := c.api.ConfigVarUpdate(ctx, app, patch); err != nil {
		return apiError(req, c, fmt.Sprintf("updating config vars of app %s (%d keys)", app, len(patch)), err)
	}
	return waitForRelease(ctx, req, c, app)
}

// waitForRelease waits for the app's newest release to succeed (upstream:
// pending -> succeeded, 20 minutes).
func waitForRelease(ctx context.Context, req *core.Request, c *client, app string) error {
	releases, err := c.api.ReleaseList(ctx, app, &heroku.ListRange{Field: "version", Descending: true, Max: 1})
	if err != nil {
		return apiError(req, c, "listing releases of app "+app, err)
	}
	if len(releases) == 0 {
		return fmt.Errorf("%s %q: Heroku made no release for the config var change of app %s; check the app with `heroku releases -a %s`",
			req.Token, req.Name, app, app)
	}
	id, version := releases[0].ID, releases[0].Version
	status := releases[0].Status
	err = waitFor(ctx, 20*time.Minute, func() (bool, error) {
		if status == "succeeded" {
			return true, nil
		}
		if status == "failed" || status == "expired" {
			return false, fmt.Errorf("release v%d of app %s ended %s; see `heroku releases:info v%d -a %s`", version, app, status, version, app)
		}
		req.Statusf("waiting for release v%d of %s (%s)", version, app, status)
		r, err := c.api.ReleaseInfo(ctx, app, id)
		if err != nil {
			return false, err
		}
		status = r.Status
		return false, nil
	})
	if err != nil {
		return apiError(req, c, fmt.Sprintf("waiting for release v%d of app %s to succeed", version, app), err)
	}
	return nil
}

func keys(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// formatSize is a dyno size as Heroku answers it: "standard-1x" -> "Standard-1X".
func formatSize(raw string) string {
	parts := strings.Split(raw, "-")
	for i, p := range parts {
		if i == 0 {
			if p != "" {
				parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
			}
		} else {
			parts[i] = strings.ToUpper(p)
		}
	}
	return strings.Join(parts, "-")
}

// appAndRef resolves what a domain or formation read is about: its app from state (or inputs) and
// the ID as the item, or, on `pulumi import`, both from an ID of the form "<app>:<item>".
func appAndRef(req *core.Request, id string, state, inputs core.Props, item, example string) (string, string, error) {
	app := state.String("appId")
	if app == "" {
		app = inputs.String("appId")
	}
	if app != "" {
		return app, id, nil
	}
	a, ref, ok := strings.Cut(id, ":")
	if !ok || a == "" || ref == "" {
		return "", "", fmt.Errorf("%s %q: import ID %q must be <app name or UUID>:<%s>, e.g. %s", req.Token, req.Name, id, item, example)
	}
	return a, ref, nil
}
