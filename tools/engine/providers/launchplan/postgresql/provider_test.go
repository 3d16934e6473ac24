package postgresql

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"launchplan.local/providers/internal/core"
)

func resourceOf(t *testing.T, token string) *core.Resource {
	t.Helper()
	for _, r := range Provider("test").Resources {
		if r.Token == token {
			return r
		}
	}
	t.Fatalf("no resource %s", token)
	return nil
}

func props(kv ...any) resource.PropertyMap {
	p := core.NewProps()
	for i := 0; i < len(kv); i += 2 {
		p.Set(kv[i].(string), kv[i+1])
	}
	return p.Map()
}

// What replaces and what updates in place, as upstream declares it.
func TestDiffSemanticsFollowUpstream(t *testing.T) {
	cases := []struct {
		token      string
		olds, news resource.PropertyMap
		changed    []string
		replaces   []string
	}{
		// Extension: name and database replace; schema/version in place; unset computed ones never diff.
		{ExtensionToken, props("name", "citext", "database", "d", "schema", "public", "version", "1.8"), props("name", "hstore"), []string{"name"}, []string{"name"}},
		{ExtensionToken, props("name", "citext", "database", "d", "schema", "public", "version", "1.8"), props("name", "citext", "database", "e"), []string{"database"}, []string{"database"}},
		{ExtensionToken, props("name", "citext", "database", "d", "schema", "public", "version", "1.8"), props("name", "citext", "schema", "ext"), []string{"schema"}, nil},
		{ExtensionToken, props("name", "citext", "database", "d", "schema", "public", "version", "1.8"), props("name", "citext"), nil, nil},
		// Schema: a new name is a rename in place; database replaces.
		{SchemaToken, props("name", "app", "database", "d", "owner", "o"), props("name", "app2"), []string{"name"}, nil},
		{SchemaToken, props("name", "app", "database", "d", "owner", "o"), props("name", "app", "database", "e"), []string{"database"}, []string{"database"}},
		// Role: nothing replaces.
		{RoleToken, props("name", "r", "connectionLimit", -1), props("name", "r2", "connectionLimit", 5), []string{"connectionLimit", "name"}, nil},
		// Grant: privileges in place (as a set), everything else replaces.
		{GrantToken, props("role", "r", "database", "d", "objectType", "schema", "schema", "s", "privileges", []string{"USAGE", "CREATE"}),
			props("role", "r", "database", "d", "objectType", "schema", "schema", "s", "privileges", []string{"CREATE", "USAGE"}), nil, nil},
		{GrantToken, props("role", "r", "database", "d", "objectType", "schema", "schema", "s", "privileges", []string{"USAGE"}),
			props("role", "r", "database", "d", "objectType", "schema", "schema", "s", "privileges", []string{"CREATE", "USAGE"}), []string{"privileges"}, nil},
		{GrantToken, props("role", "r", "database", "d", "objectType", "schema", "schema", "s", "privileges", []string{"USAGE"}),
			props("role", "r", "database", "d", "objectType", "schema", "schema", "s2", "privileges", []string{"USAGE"}), []string{"schema"}, []string{"schema"}},
	}
	for i, c := range cases {
		d := core.Diff(resourceOf(t, c.token).Properties, c.olds, c.news)
		if strings.Join(d.Changed, ",") != strings.Join(c.changed, ",") || strings.Join(d.Replaces, ",") != strings.Join(c.replaces, ",") {
			t.Errorf("case %d (%s): changed %v replaces %v, want %v %v", i, c.token, d.Changed, d.Replaces, c.changed, c.replaces)
		}
	}
	if !resourceOf(t, GrantToken).DeleteBeforeReplace {
		t.Error("a Grant is deleted before its replacement is created (pulumi-postgresql's DeleteBeforeReplace)")
	}
}

// Check fills upstream's defaults and auto-names `name` as the bridge does,
// and decodes the Python SDK's stringly provider settings.
func TestCheckDefaultsAndAutoName(t *testing.T) {
	s := core.NewServer(Provider("test"), nil)
	news, err := plugin.MarshalProperties(props("login", true), plugin.MarshalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Check(context.Background(), &pulumirpc.CheckRequest{
		Urn: "urn:pulumi:dev::p::postgresql:index/role:Role::reader", Type: RoleToken, News: news, RandomSeed: []byte("seed"),
	})
	if err != nil || len(resp.Failures) > 0 {
		t.Fatalf("%v %v", err, resp.GetFailures())
	}
	in, _ := plugin.UnmarshalProperties(resp.Inputs, plugin.MarshalOptions{})
	p := core.Props(in)
	if p.Int("connectionLimit") != -1 || !p.Bool("inherit") || p.String("validUntil") != "infinity" || !p.Bool("encryptedPassword") {
		t.Fatalf("defaults: %v", in)
	}
	if name := p.String("name"); !strings.HasPrefix(name, "reader-") || len(name) != len("reader-")+7 {
		t.Fatalf("auto-name: %q", name)
	}
	cfg, _ := plugin.MarshalProperties(props("port", "5432", "superuser", "false", "host", "h", "password", "p"), plugin.MarshalOptions{})
	cresp, err := s.CheckConfig(context.Background(), &pulumirpc.CheckRequest{News: cfg})
	if err != nil || len(cresp.Failures) > 0 {
		t.Fatalf("%v %v", err, cresp.GetFailures())
	}
	out, _ := plugin.UnmarshalProperties(cresp.Inputs, plugin.MarshalOptions{})
	c, known := configFrom(core.Props(out))
	if !known || c.Port != 5432 || c.Superuser || c.ConnectTimeout != DefaultConnectTimeout || c.Database != DefaultDatabase {
		t.Fatalf("config: %+v", c)
	}
}

// A preview with the database URL still unknown configures without error;
// a validation problem is named.
func TestConfigureUnknownAndInvalid(t *testing.T) {
	unknown := core.Props(props("host", "h")).Set("password", resource.MakeComputed(resource.NewStringProperty("")))
	m, err := configure(context.Background(), unknown)
	if err != nil || m.(*meta).err == nil {
		t.Fatalf("unknown config: %v %+v", err, m)
	}
	if _, err := configure(context.Background(), core.Props(props("sslmode", "sometimes"))); err == nil || !strings.Contains(err.Error(), "sslmode") {
		t.Fatalf("invalid sslmode: %v", err)
	}
	if f := validateConfig(core.Props(props("awsRdsIamAuth", true))); len(f) == 0 {
		t.Fatal("AWS IAM auth accepted")
	}
}

// Optional properties the program did not set read back unset (no false
// diff on refresh), and passwordWo never becomes an output.
func TestRoleOutputs(t *testing.T) {
	r := RoleDefaults()
	r.Name, r.PasswordWO, r.PasswordWOVersion = "x", "secret-wo", "1"
	out := roleProps(r, core.Props(props("name", "x", "passwordWoVersion", "1")))
	for _, k := range []string{"statementTimeout", "idleInTransactionSessionTimeout", "roles", "searchPaths", "assumeRole", "password", "passwordWo"} {
		if out.Has(k) {
			t.Errorf("%s is an output: %v", k, out[resource.PropertyKey(k)])
		}
	}
	if out.String("passwordWoVersion") != "1" || out.Int("connectionLimit") != -1 {
		t.Fatalf("outputs: %v", out)
	}
}
