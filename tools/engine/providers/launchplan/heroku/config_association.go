package heroku

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"launchplan.local/providers/internal/core"
)

// ConfigAssociation: heroku_app_config_association. ID "config:<appId>".
// Nothing replaces it; each change is one config-vars PATCH followed by a
// wait for the release it makes. Not importable (upstream: config var
// sensitivity is no Heroku notion, so there is nothing remote to import).
func configAssociationResource() *core.Resource {
	return &core.Resource{
		Token:       "heroku:app/configAssociation:ConfigAssociation",
		Description: "Config vars of a Heroku app managed apart from the app (launchplan's implementation of pulumiverse-heroku's ConfigAssociation).",
		Properties: []*core.Property{
			{Name: "appId", Kind: core.String, Input: true, Required: true, Description: "The app's UUID."},
			{Name: "sensitiveVars", Kind: core.Map, Items: stringMap(), Input: true, Secret: true},
			{Name: "vars", Kind: core.Map, Items: stringMap(), Input: true},
		},
		Validate: validateConfigAssociation,
		Create:   createConfigAssociation,
		Read:     readConfigAssociation,
		Update:   updateConfigAssociation,
		Delete:   deleteConfigAssociation,
	}
}

func validateConfigAssociation(in core.Props) []core.Failure {
	var dupes []string
	secret := in.StringMap("sensitiveVars")
	for k := range in.StringMap("vars") {
		if _, ok := secret[k]; ok {
			dupes = append(dupes, k)
		}
	}
	sort.Strings(dupes)
	var out []core.Failure
	for _, k := range dupes {
		out = append(out, core.Failure{Property: "sensitiveVars",
			Reason: fmt.Sprintf("config var %s is in both vars and sensitiveVars: keep it in one of them", k)})
	}
	return out
}

func createConfigAssociation(ctx context.Context, req *core.Request, in core.Props) (string, core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return "", nil, err
	}
	app := in.String("appId")
	if err := updateVars(ctx, req, c, app, nil, merge(in.StringMap("vars"), in.StringMap("sensitiveVars"))); err != nil {
		return "", nil, err
	}
	id := "config:" + app
	_, out, err := readConfigAssociation(ctx, req, id, nil, in)
	if err != nil {
		return id, nil, &core.PartialError{ID: id, Outputs: in, Err: err}
	}
	return id, out, nil
}

func readConfigAssociation(ctx context.Context, req *core.Request, id string, state, inputs core.Props) (string, core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return "", nil, err
	}
	app := state.String("appId")
	if app == "" {
		app = inputs.String("appId")
	}
	if app == "" {
		return "", nil, fmt.Errorf("%s %q: it is not possible to import a ConfigAssociation (id %q): Heroku has no such object, "+
			"only an app's config vars; declare the resource and run `pulumi up` instead (it sets the declared vars)",
			req.Token, req.Name, id)
	}
	remote, err := configVars(ctx, c, app)
	if err != nil {
		if isNotFound(err) {
			return "", nil, nil // the app is gone
		}
		return "", nil, apiError(req, c, "reading config vars of app "+app, err)
	}
	pick := func(key string) map[string]string {
		out := map[string]string{}
		for _, src := range []core.Props{state, inputs} {
			for k := range src.StringMap(key) {
				if v, ok := remote[k]; ok {
					out[k] = v
				}
			}
		}
		return out
	}
	out := core.NewProps().Set("appId", app)
	if v := pick("vars"); len(v) > 0 || state.Has("vars") || inputs.Has("vars") {
		out.Set("vars", v)
	}
	if v := pick("sensitiveVars"); len(v) > 0 || state.Has("sensitiveVars") || inputs.Has("sensitiveVars") {
		out.Set("sensitiveVars", v)
	}
	if !strings.HasPrefix(id, "config:") {
		id = "config:" + app
	}
	return id, out, nil
}

func updateConfigAssociation(ctx context.Context, req *core.Request, state, oldInputs, in core.Props) (core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return nil, err
	}
	oldApp, newApp := state.String("appId"), in.String("appId")
	olds := merge(state.StringMap("vars"), state.StringMap("sensitiveVars"))
	news := merge(in.StringMap("vars"), in.StringMap("sensitiveVars"))
	if oldApp != newApp && oldApp != "" {
		// Moved to another app: take the vars off the old one first.
		if err := updateVars(ctx, req, c, oldApp, olds, nil); err != nil && !isNotFound(err) {
			return nil, err
		}
		olds = nil
	}
	if err := updateVars(ctx, req, c, newApp, olds, news); err != nil {
		return nil, err
	}
	_, out, err := readConfigAssociation(ctx, req, "config:"+newApp, nil, in)
	return out, err
}

func deleteConfigAssociation(ctx context.Context, req *core.Request, state core.Props) error {
	c, err := meta(req)
	if err != nil {
		return err
	}
	app := state.String("appId")
	err = updateVars(ctx, req, c, app, merge(state.StringMap("vars"), state.StringMap("sensitiveVars")), nil)
	if err != nil && strings.Contains(err.Error(), " 404 ") {
		return nil // the app is gone, and its vars with it
	}
	return err
}
