package heroku

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	heroku "github.com/heroku/heroku-go/v5"

	"launchplan.local/providers/internal/core"
)

var addonNameRE = regexp.MustCompile(`^[a-zA-Z][A-Za-z0-9_-]+$`)

// Addon: heroku_addon. ID is the add-on's UUID. Replaces on appId and
// config; a plan change is an in-place upgrade (same add-on, same data).
// Create waits until the add-on is `provisioned` and its config vars are set.
func addonResource() *core.Resource {
	return &core.Resource{
		Token:       "heroku:addon/addon:Addon",
		Description: "A Heroku add-on (launchplan's implementation of pulumiverse-heroku's Addon).",
		Properties: []*core.Property{
			{Name: "appId", Kind: core.String, Input: true, Required: true, ForceNew: true, Description: "The app's UUID."},
			{Name: "config", Kind: core.Map, Items: stringMap(), Input: true, ForceNew: true, Description: "Provisioning options."},
			{Name: "configVarValues", Kind: core.Map, Items: stringMap(), Secret: true, DependsOn: []string{"plan"},
				Description: "The add-on's config vars and their values."},
			{Name: "configVars", Kind: core.Array, Items: stringMap(), Description: "Names of the config vars the add-on sets."},
			{Name: "name", Kind: core.String, Input: true, Computed: true, AutoName: 255, ImportComputed: true},
			{Name: "plan", Kind: core.String, Input: true, Required: true, Description: "e.g. heroku-postgresql:standard-0"},
			{Name: "providerId", Kind: core.String},
		},
		Validate: func(in core.Props) []core.Failure {
			if n, ok := in.OptString("name"); ok && in.Known("name") && (len(n) > 256 || !addonNameRE.MatchString(n)) {
				return []core.Failure{{Property: "name", Reason: fmt.Sprintf(
					"add-on name %q must start with a letter and contain only letters, digits, dashes and underscores (at most 256)", n)}}
			}
			return nil
		},
		// Add-on names are globally unique: a replacement keeping the name must delete first
		// (an autonamed add-on gets a fresh name on replacement, so it is created first).
		DeleteBeforeReplaceIf: func(olds, news core.Props) bool {
			return news.Known("name") && news.String("name") == olds.String("name")
		},
		Create: createAddon,
		Read:   readAddon,
		Update: updateAddon,
		Delete: deleteAddon,
	}
}

func createAddon(ctx context.Context, req *core.Request, in core.Props) (string, core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return "", nil, err
	}
	appID, plan := in.String("appId"), in.String("plan")
	app, err := c.api.AppInfo(ctx, appID)
	if err != nil {
		return "", nil, apiError(req, c, "reading app "+appID+" for the add-on", err)
	}
	o := heroku.AddOnCreateOpts{Plan: plan, Confirm: &app.Name}
	if cfg := in.StringMap("config"); len(cfg) > 0 {
		o.Config = cfg
	}
	if n := in.String("name"); n != "" {
		o.Name = &n
	}
	addon, err := c.api.AddOnCreate(ctx, appID, o)
	if err != nil {
		return "", nil, apiError(req, c, fmt.Sprintf("creating add-on %s for app %s", plan, app.Name), err)
	}
	timeout := c.addonCreateTimeout
	if req.Timeout > 0 {
		timeout = req.Timeout
	}
	partial := func(err error) (string, core.Props, error) {
		return addon.ID, nil, &core.PartialError{ID: addon.ID, Outputs: in.Copy().Set("name", addon.Name), Err: err}
	}
	start := time.Now()
	state := addon.State
	err = waitFor(ctx, timeout, func() (bool, error) {
		switch state {
		case "provisioned":
			return true, nil
		case "deprovisioned":
			return false, fmt.Errorf("add-on %s was deprovisioned while provisioning", addon.Name)
		}
		req.Statusf("waiting for add-on %s to be provisioned (%s, %ds)", addon.Name, state, int(time.Since(start).Seconds()))
		a, err := c.api.AddOnInfoByApp(ctx, appID, addon.ID)
		if err != nil {
			return false, err
		}
		state = a.State
		return false, nil
	})
	if err != nil {
		return partial(apiError(req, c, fmt.Sprintf("waiting for add-on %s to be provisioned (timeout %s: raise heroku:timeouts.addonCreateTimeout or customTimeouts.create)", addon.Name, timeout), err))
	}
	// Its config vars appear on the app once provisioned.
	err = waitFor(ctx, timeout, func() (bool, error) {
		a, err := c.api.AddOnInfo(ctx, addon.ID)
		if err != nil {
			return false, err
		}
		vars, err := configVars(ctx, c, appID)
		if err != nil {
			return false, err
		}
		for _, k := range a.ConfigVars {
			if _, ok := vars[k]; !ok {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return partial(apiError(req, c, "waiting for the config vars of add-on "+addon.Name, err))
	}
	_, out, err := readAddon(ctx, req, addon.ID, nil, in)
	if err != nil {
		return partial(err)
	}
	return addon.ID, out, nil
}

func readAddon(ctx context.Context, req *core.Request, id string, state, inputs core.Props) (string, core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return "", nil, err
	}
	a, err := c.api.AddOnInfo(ctx, id)
	if err != nil {
		if isNotFound(err) {
			return "", nil, nil
		}
		return "", nil, apiError(req, c, "reading add-on "+id, err)
	}
	if a.State == "deprovisioned" {
		return "", nil, nil
	}
	// Upstream: a plan declared without ":" (just the service) reads back as the service.
	plan := a.Plan.Name
	declared := inputs.String("plan")
	if declared == "" {
		declared = state.String("plan")
	}
	if declared != "" && !strings.Contains(declared, ":") {
		plan, _, _ = strings.Cut(plan, ":")
	}
	names := a.ConfigVars
	if names == nil {
		names = []string{}
	}
	out := core.NewProps().
		Set("appId", a.App.ID).
		Set("name", a.Name).
		Set("plan", plan).
		Set("providerId", a.ProviderID).
		Set("configVars", names)
	values := map[string]string{}
	if c.setAddonConfigVarsInState {
		vars, err := configVars(ctx, c, a.App.ID)
		if err != nil {
			return "", nil, apiError(req, c, "reading config vars of app "+a.App.Name, err)
		}
		for _, k := range names {
			if v, ok := vars[k]; ok {
				values[k] = v
			}
		}
	}
	out.Set("configVarValues", values)
	// The API never answers the provisioning config: keep what was declared.
	if cfg := state.Value("config"); !cfg.IsNull() {
		out.Set("config", cfg)
	} else if cfg := inputs.Value("config"); !cfg.IsNull() {
		out.Set("config", cfg)
	}
	return a.ID, out, nil
}

func updateAddon(ctx context.Context, req *core.Request, state, oldInputs, in core.Props) (core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return nil, err
	}
	id := req.ID
	o := heroku.AddOnUpdateOpts{}
	if p := in.String("plan"); p != state.String("plan") {
		o.Plan = p
	}
	if n, ok := in.OptString("name"); ok && n != "" && n != state.String("name") {
		o.Name = &n
	}
	if o.Plan == "" && o.Name == nil {
		_, out, err := readAddon(ctx, req, id, state, in)
		return out, err
	}
	what := "renaming add-on " + state.String("name")
	if o.Plan != "" {
		what = fmt.Sprintf("changing the plan of add-on %s from %s to %s", state.String("name"), state.String("plan"), o.Plan)
	}
	a, err := c.api.AddOnUpdate(ctx, in.String("appId"), id, o)
	if err != nil {
		return nil, apiError(req, c, what, err)
	}
	_, out, err := readAddon(ctx, req, a.ID, state, in)
	if err == nil && out == nil {
		err = fmt.Errorf("%s %q: add-on %s disappeared during the update; run `pulumi refresh`", req.Token, req.Name, id)
	}
	return out, err
}

func deleteAddon(ctx context.Context, req *core.Request, state core.Props) error {
	c, err := meta(req)
	if err != nil {
		return err
	}
	if _, err := c.api.AddOnDelete(ctx, state.String("appId"), req.ID); err != nil && !isNotFound(err) {
		return apiError(req, c, "deleting add-on "+state.String("name"), err)
	}
	return nil
}
