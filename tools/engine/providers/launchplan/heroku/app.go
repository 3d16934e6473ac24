package heroku

import (
	"context"
	"fmt"
	"sort"

	heroku "github.com/heroku/heroku-go/v5"

	"launchplan.local/providers/internal/core"
)

var appOrganizationType = &core.ObjectType{
	Token: "heroku:app/AppOrganization:AppOrganization",
	Properties: []*core.Property{
		{Name: "locked", Kind: core.Bool, Input: true, Computed: true},
		{Name: "name", Kind: core.String, Input: true, Required: true, ForceNew: true, Description: "The name of the Heroku Team."},
		{Name: "personal", Kind: core.Bool, Input: true, Computed: true, ForceNew: true},
	},
}

func stringMap() *core.Property { return &core.Property{Kind: core.String} }

// App: heroku_app. ID is the app's UUID. Replaces on region, space,
// internalRouting, organization.name, organization.personal.
func appResource() *core.Resource {
	return &core.Resource{
		Token:       "heroku:app/app:App",
		Description: "A Heroku app (launchplan's implementation of pulumiverse-heroku's App).",
		Properties: []*core.Property{
			{Name: "acm", Kind: core.Bool, Input: true, Computed: true, Description: "Automated Certificate Management."},
			{Name: "allConfigVars", Kind: core.Map, Items: stringMap(), Secret: true, DependsOn: []string{"configVars", "sensitiveConfigVars"},
				Description: "Every config var of the app (add-ons' included)."},
			{Name: "buildpacks", Kind: core.Array, Items: stringMap(), Input: true, Computed: true},
			{Name: "configVars", Kind: core.Map, Items: stringMap(), Input: true, Computed: true},
			{Name: "gitUrl", Kind: core.String, DependsOn: []string{"name"}},
			{Name: "herokuHostname", Kind: core.String, DependsOn: []string{"name"}},
			{Name: "internalRouting", Kind: core.Bool, Input: true, Computed: true, ForceNew: true},
			{Name: "name", Kind: core.String, Input: true, Computed: true, AutoName: 255, ImportComputed: true,
				Description: "The name of the application; unique on Heroku."},
			{Name: "organization", Kind: core.Object, Ref: appOrganizationType.Token, Input: true},
			{Name: "region", Kind: core.String, Input: true, Required: true, ForceNew: true},
			{Name: "sensitiveConfigVars", Kind: core.Map, Items: stringMap(), Input: true, Computed: true, Secret: true},
			{Name: "space", Kind: core.String, Input: true, ForceNew: true},
			{Name: "stack", Kind: core.String, Input: true, Computed: true},
			{Name: "uuid", Kind: core.String},
			{Name: "webUrl", Kind: core.String, DependsOn: []string{"name"}},
		},
		// App names are unique on Heroku: a replacement keeping the name must delete first.
		DeleteBeforeReplaceIf: func(olds, news core.Props) bool {
			return news.Known("name") && news.String("name") == olds.String("name")
		},
		Validate: validateApp,
		Create:   createApp,
		Read:     readApp,
		Update:   updateApp,
		Delete:   deleteApp,
	}
}

func validateApp(in core.Props) []core.Failure {
	var out []core.Failure
	plain, secret := in.StringMap("configVars"), in.StringMap("sensitiveConfigVars")
	var dupes []string
	for k := range plain {
		if _, ok := secret[k]; ok {
			dupes = append(dupes, k)
		}
	}
	sort.Strings(dupes)
	for _, k := range dupes {
		out = append(out, core.Failure{Property: "sensitiveConfigVars",
			Reason: fmt.Sprintf("config var %s is in both configVars and sensitiveConfigVars: keep it in one of them", k)})
	}
	if org := in.Object("organization"); org != nil && in.Known("organization") && org.String("name") == "" {
		out = append(out, core.Failure{Property: "organization", Reason: "organization.name must not be empty"})
	}
	return out
}

func isTeamApp(in core.Props) bool { return in.Object("organization") != nil }

func createApp(ctx context.Context, req *core.Request, in core.Props) (string, core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return "", nil, err
	}
	name := in.String("name")
	opt := func(k string) *string {
		if v, ok := in.OptString(k); ok && v != "" {
			return &v
		}
		return nil
	}
	var id string
	if isTeamApp(in) {
		org := in.Object("organization")
		team := org.String("name")
		o := heroku.TeamAppCreateOpts{Name: &name, Team: &team, Region: opt("region"), Space: opt("space"), Stack: opt("stack")}
		if v, ok := org.OptBool("personal"); ok {
			o.Personal = &v
		}
		if v, ok := org.OptBool("locked"); ok {
			o.Locked = &v
		}
		if v, ok := in.OptBool("internalRouting"); ok && v {
			o.InternalRouting = &v
		}
		app, err := c.api.TeamAppCreate(ctx, o)
		if err != nil {
			return "", nil, apiError(req, c, fmt.Sprintf("creating app %s in team %s, region %s", name, team, in.String("region")), err)
		}
		id = app.ID
	} else {
		app, err := c.api.AppCreate(ctx, heroku.AppCreateOpts{Name: &name, Region: opt("region"), Stack: opt("stack")})
		if err != nil {
			return "", nil, apiError(req, c, fmt.Sprintf("creating app %s in region %s", name, in.String("region")), err)
		}
		id = app.ID
	}
	// Post-create tasks (upstream): buildpacks, config vars, ACM.
	partial := func(err error) (string, core.Props, error) {
		return id, nil, &core.PartialError{ID: id, Outputs: core.NewProps().Set("name", name).Set("uuid", id), Err: err}
	}
	if bps := in.Strings("buildpacks"); len(bps) > 0 {
		if err := setBuildpacks(ctx, req, c, id, bps); err != nil {
			return partial(err)
		}
	}
	if vars := merge(in.StringMap("configVars"), in.StringMap("sensitiveConfigVars")); len(vars) > 0 {
		if err := updateVars(ctx, req, c, id, nil, vars); err != nil {
			return partial(err)
		}
	}
	if in.Bool("acm") {
		if _, err := c.api.AppEnableACM(ctx, id); err != nil {
			return partial(apiError(req, c, "enabling ACM on app "+name, err))
		}
	}
	if err := pause(ctx, c.postAppCreateDelay); err != nil {
		return partial(err)
	}
	_, out, err := readApp(ctx, req, id, nil, in)
	if err != nil {
		return partial(err)
	}
	return id, out, nil
}

func setBuildpacks(ctx context.Context, req *core.Request, c *client, app string, bps []string) error {
	o := heroku.BuildpackInstallationUpdateOpts{}
	for _, b := range bps {
		o.Updates = append(o.Updates, struct {
			Buildpack string `json:"buildpack" url:"buildpack,key"`
		}{Buildpack: b})
	}
	if _, err := c.api.BuildpackInstallationUpdate(ctx, app, o); err != nil {
		return apiError(req, c, "setting the buildpacks of app "+app, err)
	}
	return nil
}

// readApp answers the app's state. Only the config var keys the program
// manages go to configVars / sensitiveConfigVars (as upstream); every var
// goes to allConfigVars unless customizations say otherwise.
func readApp(ctx context.Context, req *core.Request, id string, state, inputs core.Props) (string, core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return "", nil, err
	}
	app, err := c.api.AppInfo(ctx, id)
	if err != nil {
		if isNotFound(err) {
			return "", nil, nil
		}
		return "", nil, apiError(req, c, "reading app "+id, err)
	}
	vars, err := configVars(ctx, c, app.ID)
	if err != nil {
		return "", nil, apiError(req, c, "reading config vars of app "+app.Name, err)
	}
	bps, err := c.api.BuildpackInstallationList(ctx, app.ID, nil)
	if err != nil {
		return "", nil, apiError(req, c, "reading buildpacks of app "+app.Name, err)
	}
	buildpacks := []string{}
	for _, b := range bps {
		buildpacks = append(buildpacks, b.Buildpack.Name)
	}
	pick := func(key string) map[string]string {
		care := keys(state.StringMap(key))
		for k := range inputs.StringMap(key) {
			care[k] = true
		}
		out := map[string]string{}
		for k := range care {
			if v, ok := vars[k]; ok {
				out[k] = v
			}
		}
		return out
	}
	out := core.NewProps().
		Set("name", app.Name).
		Set("uuid", app.ID).
		Set("region", app.Region.Name).
		Set("stack", app.BuildStack.Name).
		Set("gitUrl", app.GitURL).
		Set("webUrl", app.WebURL).
		Set("acm", app.Acm).
		Set("herokuHostname", app.Name+".herokuapp.com").
		Set("buildpacks", buildpacks).
		Set("configVars", pick("configVars")).
		Set("sensitiveConfigVars", pick("sensitiveConfigVars")).
		Set("internalRouting", app.InternalRouting != nil && *app.InternalRouting)
	if c.setAppAllConfigVarsInState {
		out.Set("allConfigVars", vars)
	} else {
		out.Set("allConfigVars", map[string]string{})
	}
	if app.Space != nil {
		out.Set("space", app.Space.Name)
	}
	if app.Team != nil || app.Organization != nil {
		team := ""
		if app.Team != nil {
			team = app.Team.Name
		} else {
			team = app.Organization.Name
		}
		ta, err := c.api.TeamAppInfo(ctx, app.ID)
		if err != nil {
			return "", nil, apiError(req, c, "reading team settings of app "+app.Name, err)
		}
		org := core.NewProps().Set("name", team).Set("locked", ta.Locked)
		// The API does not answer `personal`: keep what the program said (upstream).
		personal := false
		for _, src := range []core.Props{inputs.Object("organization"), state.Object("organization")} {
			if v, ok := src.OptBool("personal"); ok {
				personal = v
				break
			}
		}
		org.Set("personal", personal)
		out.Set("organization", org)
	}
	return app.ID, out, nil
}

func updateApp(ctx context.Context, req *core.Request, state, oldInputs, in core.Props) (core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return nil, err
	}
	id := state.String("uuid")
	if id == "" {
		id = req.ID
	}
	o := heroku.AppUpdateOpts{}
	changed := false
	if n := in.String("name"); n != "" && n != state.String("name") {
		o.Name, changed = &n, true
	}
	if s, ok := in.OptString("stack"); ok && s != "" && s != state.String("stack") {
		o.BuildStack, changed = &s, true
	}
	if changed {
		if _, err := c.api.AppUpdate(ctx, id, o); err != nil {
			return nil, apiError(req, c, "updating app "+state.String("name"), err)
		}
	}
	if in.Has("buildpacks") && !equalStrings(in.Strings("buildpacks"), state.Strings("buildpacks")) {
		if err := setBuildpacks(ctx, req, c, id, in.Strings("buildpacks")); err != nil {
			return nil, err
		}
	}
	// Config vars: absent (optional+computed) means unchanged.
	oldVars := merge(state.StringMap("configVars"), state.StringMap("sensitiveConfigVars"))
	newPlain, newSecret := state.StringMap("configVars"), state.StringMap("sensitiveConfigVars")
	// (An empty map is no value, as in Terraform's SDK.)
	if v := in.StringMap("configVars"); len(v) > 0 {
		newPlain = v
	}
	if v := in.StringMap("sensitiveConfigVars"); len(v) > 0 {
		newSecret = v
	}
	if err := updateVars(ctx, req, c, id, oldVars, merge(newPlain, newSecret)); err != nil {
		return nil, err
	}
	if v, ok := in.OptBool("acm"); ok && v != state.Bool("acm") {
		var err error
		if v {
			_, err = c.api.AppEnableACM(ctx, id)
		} else {
			_, err = c.api.AppDisableACM(ctx, id)
		}
		if err != nil {
			return nil, apiError(req, c, fmt.Sprintf("setting ACM to %t on app %s", v, state.String("name")), err)
		}
	}
	if org := in.Object("organization"); org != nil {
		if v, ok := org.OptBool("locked"); ok && v != state.Object("organization").Bool("locked") {
			if _, err := c.api.TeamAppUpdateLocked(ctx, id, heroku.TeamAppUpdateLockedOpts{Locked: v}); err != nil {
				return nil, apiError(req, c, "locking app "+state.String("name"), err)
			}
		}
	}
	newState := state.Copy().Set("configVars", newPlain).Set("sensitiveConfigVars", newSecret)
	_, out, err := readApp(ctx, req, id, newState, in)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("%s %q: app %s disappeared during the update; run `pulumi refresh`", req.Token, req.Name, id)
	}
	return out, nil
}

func deleteApp(ctx context.Context, req *core.Request, state core.Props) error {
	c, err := meta(req)
	if err != nil {
		return err
	}
	id := state.String("uuid")
	if id == "" {
		id = req.ID
	}
	if _, err := c.api.AppDelete(ctx, id); err != nil && !isNotFound(err) {
		return apiError(req, c, "deleting app "+state.String("name"), err)
	}
	return nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
