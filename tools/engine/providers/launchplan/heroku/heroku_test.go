package heroku

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"launchplan.local/providers/internal/core"
)

func TestFormatSize(t *testing.T) {
	for in, want := range map[string]string{"standard-1x": "Standard-1X", "basic": "Basic", "performance-l-ram": "Performance-L-RAM",
		"Private-M": "Private-M", "eco": "Eco"} {
		if got := formatSize(in); got != want {
			t.Errorf("formatSize(%q) = %q, want %q", in, got, want)
		}
	}
}

func find(r *core.Resource, name string) *core.Property {
	for _, p := range r.Properties {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Upstream's replace/update semantics, as the diff computes them from the declarations.
func TestUpstreamReplaceSemantics(t *testing.T) {
	core.NewServer(Provider("test"), nil) // registers the object types
	pm := resource.NewPropertyMapFromMap
	cases := []struct {
		r          *core.Resource
		olds, news map[string]any
		replaces   string
		changed    bool
	}{
		{appResource(), map[string]any{"region": "us", "name": "a", "stack": "heroku-24"}, map[string]any{"region": "eu", "name": "a"}, "region", true},
		{appResource(), map[string]any{"region": "us", "name": "a", "stack": "heroku-24"}, map[string]any{"region": "us", "name": "a"}, "", false},
		{appResource(), map[string]any{"region": "us", "name": "a", "organization": map[string]any{"name": "t", "locked": false, "personal": false}},
			map[string]any{"region": "us", "name": "a", "organization": map[string]any{"name": "t", "locked": true}}, "", true},
		{appResource(), map[string]any{"region": "us", "name": "a", "organization": map[string]any{"name": "t"}},
			map[string]any{"region": "us", "name": "a", "organization": map[string]any{"name": "u"}}, "organization", true},
		{addonResource(), map[string]any{"appId": "x", "plan": "heroku-postgresql:standard-0", "name": "db"},
			map[string]any{"appId": "x", "plan": "heroku-postgresql:standard-2", "name": "db"}, "", true},
		{addonResource(), map[string]any{"appId": "x", "plan": "p", "name": "db"},
			map[string]any{"appId": "x", "plan": "p", "name": "db", "config": map[string]any{"k": "v"}}, "config", true},
		{formationResource(), map[string]any{"appId": "x", "type": "web", "size": "Standard-1X", "quantity": 1},
			map[string]any{"appId": "x", "type": "web", "size": "standard-1x", "quantity": 1}, "", false},
		{formationResource(), map[string]any{"appId": "x", "type": "web", "size": "Basic", "quantity": 1},
			map[string]any{"appId": "y", "type": "web", "size": "basic", "quantity": 1}, "appId", true},
		{domainResource(), map[string]any{"appId": "x", "hostname": "a.example"}, map[string]any{"appId": "x", "hostname": "b.example"}, "hostname", true},
		{configAssociationResource(), map[string]any{"appId": "x", "vars": map[string]any{"A": "1"}},
			map[string]any{"appId": "y", "vars": map[string]any{"A": "1"}}, "", true},
	}
	for i, c := range cases {
		d := core.Diff(c.r.Properties, pm(c.olds), pm(c.news))
		got := ""
		if len(d.Replaces) > 0 {
			got = d.Replaces[0]
		}
		if got != c.replaces || d.HasChanges() != c.changed {
			t.Errorf("case %d (%s): replaces %v changed %v, want %q %v (%v)", i, c.r.Token, d.Replaces, d.HasChanges(), c.replaces, c.changed, d.Detailed)
		}
	}
	if !find(appResource(), "sensitiveConfigVars").Secret || !find(appResource(), "allConfigVars").Secret ||
		!find(addonResource(), "configVarValues").Secret || !find(configAssociationResource(), "sensitiveVars").Secret {
		t.Error("a secret property is not declared secret")
	}
	// A domain moving to a new app keeps its hostname: it must be deleted before the replacement.
	dbr := domainResource().DeleteBeforeReplaceIf
	if !dbr(core.Props(pm(map[string]any{"hostname": "a.example"})), core.Props(pm(map[string]any{"hostname": "A.example"}))) {
		t.Error("domain moved to another app should delete before replace")
	}
}
