package postgresql

// The Pulumi side: the package schema of pulumi-postgresql 3.18.2 for the
// provider configuration and the four resources launchplan declares, and the
// lifecycle functions that map property maps onto the SQL in this package.

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"launchplan.local/providers/internal/core"
)

// Token prefixes of the pinned SDK.
const (
	ExtensionToken = "postgresql:index/extension:Extension"
	SchemaToken    = "postgresql:index/schema:Schema"
	RoleToken      = "postgresql:index/role:Role"
	GrantToken     = "postgresql:index/grant:Grant"
	clientcertType = "postgresql:index/ProviderClientcert:ProviderClientcert"
	schemaPolicy   = "postgresql:index/SchemaPolicy:SchemaPolicy"
)

// Provider answers the plugin's declaration; version is e.g. "3.18.2+launchplan".
func Provider(version string) *core.Provider {
	return &core.Provider{
		Name:        "postgresql",
		Version:     version,
		DisplayName: "PostgreSQL",
		Description: "launchplan's own implementation of the pulumi-postgresql schema (provider config, Extension, Schema, Role, Grant), for the offline engine.",
		Homepage:    "https://www.pulumi.com",
		Repository:  "https://github.com/pulumi/pulumi-postgresql",
		Config:      configProps(),
		Types: []*core.ObjectType{
			{Token: clientcertType, Description: "SSL client certificate.", Properties: []*core.Property{
				{Name: "cert", Kind: core.String, Input: true, Required: true, Description: "The SSL client certificate file path (PEM)."},
				{Name: "key", Kind: core.String, Input: true, Required: true, Description: "The SSL client certificate private key file path (PEM)."},
				{Name: "sslinline", Kind: core.Bool, Input: true, Description: "Must be false: certificates are read from files."},
			}},
			{Token: schemaPolicy, Description: "Deprecated: use Grant with objectType schema.", Properties: []*core.Property{
				{Name: "create", Kind: core.Bool, Input: true},
				{Name: "createWithGrant", Kind: core.Bool, Input: true},
				{Name: "role", Kind: core.String, Input: true},
				{Name: "usage", Kind: core.Bool, Input: true},
				{Name: "usageWithGrant", Kind: core.Bool, Input: true},
			}},
		},
		Resources:      []*core.Resource{extensionResource(), schemaResource(), roleResource(), grantResource()},
		Configure:      configure,
		ValidateConfig: validateConfig,
	}
}

func str(name, desc string) *core.Property {
	return &core.Property{Name: name, Kind: core.String, Input: true, Description: desc}
}

func boolean(name, desc string) *core.Property {
	return &core.Property{Name: name, Kind: core.Bool, Input: true, Description: desc}
}

func integer(name, desc string) *core.Property {
	return &core.Property{Name: name, Kind: core.Int, Input: true, Description: desc}
}

func stringList(name, desc string) *core.Property {
	return &core.Property{Name: name, Kind: core.Array, Items: &core.Property{Kind: core.String}, Input: true, Description: desc}
}

// withDefault sets a default Check applies but the schema does not show:
// the bridged provider applies Terraform defaults the same way.
func withDefault(p *core.Property, v any) *core.Property {
	p.Default, p.HideDefault = v, true
	return p
}

func required(p *core.Property) *core.Property { p.Required = true; return p }

// autoNamed: the pinned SDK's `name` is optional: the bridge's
// SetAutonaming(255, "-") fills it with "<resource name>-<7 hex>".
func autoNamed(p *core.Property) *core.Property {
	p.Computed, p.AutoName, p.ImportComputed = true, 255, true
	return p
}
func computed(p *core.Property) *core.Property { p.Computed = true; return p }
func forceNew(p *core.Property) *core.Property { p.ForceNew = true; return p }
func secret(p *core.Property) *core.Property   { p.Secret = true; return p }

// ------------------------------------------------------------------ config ----

func configProps() []*core.Property {
	port := integer("port", "The PostgreSQL port number to connect to at the server host (default: PGPORT, then 5432).")
	timeout := integer("connectTimeout", "Maximum wait for connection, in seconds. Zero or not specified means wait indefinitely.")
	timeout.Default, timeout.DefaultEnv = DefaultConnectTimeout, []string{"PGCONNECT_TIMEOUT"}
	sslmode := str("sslmode", "Whether or with what priority a secure SSL TCP/IP connection will be negotiated with the server.")
	sslmode.DefaultEnv = []string{"PGSSLMODE"}
	return []*core.Property{
		boolean("awsRdsIamAuth", "Use rds_iam instead of password authentication (not supported by launchplan's plugin)."),
		str("awsRdsIamProfile", "AWS profile to use for IAM auth (not supported by launchplan's plugin)."),
		str("awsRdsIamProviderRoleArn", "AWS IAM role to assume for IAM auth (not supported by launchplan's plugin)."),
		str("awsRdsIamRegion", "AWS region to use for IAM auth (not supported by launchplan's plugin)."),
		boolean("azureIdentityAuth", "Use an MS Azure identity OAuth token (not supported by launchplan's plugin)."),
		str("azureTenantId", "MS Azure tenant ID (not supported by launchplan's plugin)."),
		{Name: "clientcert", Kind: core.Object, Ref: clientcertType, Input: true, Description: "SSL client certificate if required by the database."},
		timeout,
		str("database", "The name of the database to connect to (defaults to `postgres`)."),
		str("databaseUsername", "Database username associated to the connected user (for user name maps)."),
		str("expectedVersion", "Specify the expected version of PostgreSQL."),
		str("gcpIamImpersonateServiceAccount", "Service account to impersonate when using GCP IAM authentication (not supported by launchplan's plugin)."),
		str("host", "Name of PostgreSQL server address to connect to (default: PGHOST, then localhost)."),
		integer("maxConnections", "Maximum number of connections to establish to the database. Zero means unlimited."),
		secret(str("password", "Password to be used if the PostgreSQL server demands password authentication (default: PGPASSWORD).")),
		port,
		str("scheme", "postgres (the only scheme launchplan's plugin supports), awspostgres or gcppostgres."),
		str("sslMode", "Deprecated: use sslmode."),
		sslmode,
		str("sslrootcert", "The SSL server root certificate file path. The file must contain PEM encoded data."),
		boolean("superuser", "Whether the user to connect as is a PostgreSQL superuser (default true, as upstream). If not, superuser-only operations are skipped (e.g. reading role passwords back on refresh)."),
		str("username", "PostgreSQL user name to connect as (default: PGUSER, then postgres)."),
	}
}

func validateConfig(c core.Props) []core.Failure {
	var out []core.Failure
	if c.Known("awsRdsIamAuth") && c.Bool("awsRdsIamAuth") {
		out = append(out, core.Failure{Property: "awsRdsIamAuth", Reason: "postgresql:awsRdsIamAuth: AWS RDS IAM authentication is not supported by launchplan's offline postgresql plugin; use a password"})
	}
	if c.Known("azureIdentityAuth") && c.Bool("azureIdentityAuth") {
		out = append(out, core.Failure{Property: "azureIdentityAuth", Reason: "postgresql:azureIdentityAuth: Azure identity authentication is not supported by launchplan's offline postgresql plugin; use a password"})
	}
	if cc := c.Object("clientcert"); cc != nil && cc.Bool("sslinline") {
		out = append(out, core.Failure{Property: "clientcert", Reason: "postgresql:clientcert: sslinline certificates are not supported by launchplan's plugin; give file paths"})
	}
	cfg, known := configFrom(c)
	if known {
		if err := cfg.Validate(); err != nil {
			out = append(out, core.Failure{Property: "", Reason: "postgresql provider: " + err.Error()})
		}
	}
	return out
}

func envOr(key, fallback string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return fallback
}

// configFrom builds the Config with upstream's defaults; known is false while
// any setting is still unknown (a preview before the database exists).
func configFrom(c core.Props) (Config, bool) {
	known := true
	for k := range c {
		if !c.Known(string(k)) {
			known = false
		}
	}
	port, _ := strconv.Atoi(envOr("PGPORT", strconv.Itoa(DefaultPort)))
	if p, ok := c.OptInt("port"); ok {
		port = p
	}
	superuser := true
	if v, ok := os.LookupEnv("PGSUPERUSER"); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			superuser = b
		}
	}
	if b, ok := c.OptBool("superuser"); ok {
		superuser = b
	}
	sslmode := c.String("sslmode")
	if sslmode == "" {
		sslmode = c.String("sslMode")
	}
	maxConns := DefaultMaxConnections
	if m, ok := c.OptInt("maxConnections"); ok {
		maxConns = m
	}
	timeout := DefaultConnectTimeout
	if t, ok := c.OptInt("connectTimeout"); ok {
		timeout = t
	}
	cfg := Config{
		Scheme:           c.String("scheme"),
		Host:             envOr("PGHOST", "localhost"),
		Port:             port,
		Username:         envOr("PGUSER", DefaultUsername),
		Password:         os.Getenv("PGPASSWORD"),
		Database:         envOr("PGDATABASE", DefaultDatabase),
		DatabaseUsername: c.String("databaseUsername"),
		SSLMode:          sslmode,
		SSLRootCert:      c.String("sslrootcert"),
		Superuser:        superuser,
		ConnectTimeout:   timeout,
		MaxConnections:   maxConns,
		ExpectedVersion:  c.String("expectedVersion"),
	}
	if v, ok := c.OptString("host"); ok && v != "" {
		cfg.Host = v
	}
	if v, ok := c.OptString("username"); ok && v != "" {
		cfg.Username = v
	}
	if v, ok := c.OptString("password"); ok {
		cfg.Password = v
	}
	if v, ok := c.OptString("database"); ok && v != "" {
		cfg.Database = v
	}
	if cc := c.Object("clientcert"); cc != nil {
		cfg.ClientCert, cfg.ClientKey = cc.String("cert"), cc.String("key")
	}
	return cfg, known
}

// meta is what Configure hands to every resource call.
type meta struct {
	client *Client
	err    error // set when the configuration could not make a client
}

func configure(_ context.Context, c core.Props) (any, error) {
	cfg, known := configFrom(c)
	if !known {
		// Only previews run with an unknown configuration, and they make no call.
		return &meta{err: fmt.Errorf("the postgresql provider's configuration is not known yet (it depends on resources not created yet)")}, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("postgresql provider: %w", err)
	}
	return &meta{client: NewClient(cfg)}, nil
}

func clientOf(req *core.Request) (*Client, error) {
	m, _ := req.Meta.(*meta)
	if m == nil {
		return nil, fmt.Errorf("%s: the postgresql provider is not configured", req.URN)
	}
	if m.err != nil {
		return nil, m.err
	}
	return m.client, nil
}

// named prefixes an error with the resource's type and program name.
func named(req *core.Request, kind string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgresql.%s %q: %w", kind, req.Name, err)
}

// optional sets key in p when v is not its zero value or was an input: an
// optional property the program did not set reads back as unset, as the
// Terraform SDK treats zero values (so a refresh shows no false change).
func optional(p core.Props, inputs core.Props, key string, v any) {
	zero := false
	switch x := v.(type) {
	case string:
		zero = x == ""
	case bool:
		zero = !x
	case int:
		zero = x == 0
	case []string:
		zero = len(x) == 0
	}
	if zero && !inputs.Has(key) {
		return
	}
	if s, ok := v.([]string); ok && s == nil {
		v = []string{}
	}
	p.Set(key, v)
}

// ---------------------------------------------------------------- extension ----

func extensionResource() *core.Resource {
	return &core.Resource{
		Token:       ExtensionToken,
		Description: "A PostgreSQL extension in a database. Replaced when name or database change; schema and version change in place. Import ID: `<database>.<extension>`.",
		Properties: []*core.Property{
			withDefault(boolean("createCascade", "When true, also creates the extensions this one depends on."), false),
			forceNew(computed(str("database", "The database to add the extension to (default: the provider's)."))),
			withDefault(boolean("dropCascade", "When true, also drops the objects that depend on the extension."), false),
			forceNew(autoNamed(str("name", "The name of the extension (default: auto-named from the resource name)."))),
			computed(str("schema", "The schema of the extension's objects.")),
			computed(str("version", "The version of the extension.")),
		},
		Create: func(ctx context.Context, req *core.Request, in core.Props) (string, core.Props, error) {
			c, err := clientOf(req)
			if err != nil {
				return "", nil, err
			}
			e, err := c.CreateExtension(ctx, extensionFrom(in))
			if err != nil {
				return "", nil, named(req, "Extension", err)
			}
			return ExtensionID(e.Database, e.Name), extensionProps(e, in), nil
		},
		Read: func(ctx context.Context, req *core.Request, id string, state, in core.Props) (string, core.Props, error) {
			c, err := clientOf(req)
			if err != nil {
				return "", nil, err
			}
			database, name := state.String("database"), state.String("name")
			if name == "" {
				if database, name, err = ParseExtensionID(id); err != nil {
					return "", nil, named(req, "Extension", err)
				}
			}
			e, err := c.ReadExtension(ctx, database, name)
			if err != nil || e == nil {
				return "", nil, named(req, "Extension", err)
			}
			e.CreateCascade, e.DropCascade = state.Bool("createCascade"), state.Bool("dropCascade")
			return ExtensionID(e.Database, e.Name), extensionProps(*e, state), nil
		},
		Update: func(ctx context.Context, req *core.Request, state, _, in core.Props) (core.Props, error) {
			c, err := clientOf(req)
			if err != nil {
				return nil, err
			}
			e, err := c.UpdateExtension(ctx, extensionFrom(state), extensionFrom(in))
			if err != nil {
				return nil, named(req, "Extension", err)
			}
			return extensionProps(e, in), nil
		},
		Delete: func(ctx context.Context, req *core.Request, state core.Props) error {
			c, err := clientOf(req)
			if err != nil {
				return err
			}
			return named(req, "Extension", c.DeleteExtension(ctx, extensionFrom(state)))
		},
	}
}

func extensionFrom(p core.Props) Extension {
	return Extension{Name: p.String("name"), Schema: p.String("schema"), Version: p.String("version"),
		Database: p.String("database"), CreateCascade: p.Bool("createCascade"), DropCascade: p.Bool("dropCascade")}
}

func extensionProps(e Extension, in core.Props) core.Props {
	p := core.NewProps().Set("name", e.Name).Set("schema", e.Schema).Set("version", e.Version).Set("database", e.Database)
	p.Set("createCascade", e.CreateCascade).Set("dropCascade", e.DropCascade)
	return p
}

// ------------------------------------------------------------------- schema ----

func schemaResource() *core.Resource {
	return &core.Resource{
		Token:       SchemaToken,
		Description: "A schema in a database. Replaced when the database changes; a new name renames it in place. Import ID: `<database>.<schema>`.",
		Properties: []*core.Property{
			forceNew(computed(str("database", "The database of the schema (default: the provider's)."))),
			withDefault(boolean("dropCascade", "When true, dropping the schema also drops the objects in it."), false),
			withDefault(boolean("ifNotExists", "When true, an existing schema of the same name is used."), true),
			autoNamed(str("name", "The name of the schema (default: auto-named from the resource name).")),
			computed(str("owner", "The role that owns the schema.")),
			computed(&core.Property{Name: "policies", Kind: core.Array, Items: &core.Property{Kind: core.Object, Ref: schemaPolicy}, Input: true,
				Description: "Deprecated: use Grant with objectType schema. Not supported by launchplan's plugin."}),
		},
		Validate: func(in core.Props) []core.Failure {
			if v := in.Value("policies"); v.IsArray() && len(v.ArrayValue()) > 0 {
				return []core.Failure{{Property: "policies", Reason: "postgresql.Schema: policies is deprecated upstream and not supported by launchplan's plugin: declare a postgresql.Grant with object_type=\"schema\" instead"}}
			}
			return nil
		},
		Create: func(ctx context.Context, req *core.Request, in core.Props) (string, core.Props, error) {
			c, err := clientOf(req)
			if err != nil {
				return "", nil, err
			}
			s, err := c.CreateSchema(ctx, schemaFrom(in))
			if err != nil {
				return "", nil, named(req, "Schema", err)
			}
			return SchemaID(s.Database, s.Name), schemaProps(s), nil
		},
		Read: func(ctx context.Context, req *core.Request, id string, state, _ core.Props) (string, core.Props, error) {
			c, err := clientOf(req)
			if err != nil {
				return "", nil, err
			}
			database, name := state.String("database"), state.String("name")
			if name == "" {
				if database, name, err = ParseSchemaID(id); err != nil {
					return "", nil, named(req, "Schema", err)
				}
			}
			s, err := c.ReadSchema(ctx, database, name)
			if err != nil || s == nil {
				return "", nil, named(req, "Schema", err)
			}
			s.IfNotExists, s.DropCascade = true, state.Bool("dropCascade")
			if v, ok := state.OptBool("ifNotExists"); ok {
				s.IfNotExists = v
			}
			return SchemaID(s.Database, s.Name), schemaProps(*s), nil
		},
		Update: func(ctx context.Context, req *core.Request, state, _, in core.Props) (core.Props, error) {
			c, err := clientOf(req)
			if err != nil {
				return nil, err
			}
			s, err := c.UpdateSchema(ctx, schemaFrom(state), schemaFrom(in))
			if err != nil {
				return nil, named(req, "Schema", err)
			}
			return schemaProps(s), nil
		},
		Delete: func(ctx context.Context, req *core.Request, state core.Props) error {
			c, err := clientOf(req)
			if err != nil {
				return err
			}
			return named(req, "Schema", c.DeleteSchema(ctx, schemaFrom(state)))
		},
	}
}

func schemaFrom(p core.Props) Schema {
	s := Schema{Name: p.String("name"), Database: p.String("database"), Owner: p.String("owner"),
		IfNotExists: true, DropCascade: p.Bool("dropCascade")}
	if v, ok := p.OptBool("ifNotExists"); ok {
		s.IfNotExists = v
	}
	return s
}

func schemaProps(s Schema) core.Props {
	return core.NewProps().Set("name", s.Name).Set("database", s.Database).Set("owner", s.Owner).
		Set("ifNotExists", s.IfNotExists).Set("dropCascade", s.DropCascade).Set("policies", []any{})
}

// --------------------------------------------------------------------- role ----

func roleResource() *core.Resource {
	return &core.Resource{
		Token:       RoleToken,
		Description: "A PostgreSQL role. Nothing replaces it: a new name renames it in place. Import ID: the role's name.",
		Properties: []*core.Property{
			str("assumeRole", "Role to switch to at login."),
			withDefault(boolean("bypassRowLevelSecurity", "Whether the role bypasses every row-level security (RLS) policy."), false),
			withDefault(integer("connectionLimit", "How many concurrent connections the role can make (-1: no limit)."), -1),
			withDefault(boolean("createDatabase", "Whether the role may create databases."), false),
			withDefault(boolean("createRole", "Whether the role may create roles."), false),
			str("encrypted", "Deprecated: use encryptedPassword."),
			withDefault(boolean("encryptedPassword", "Whether the password is stored encrypted (always, from PostgreSQL 10)."), true),
			integer("idleInTransactionSessionTimeout", "Terminate any session idle in a transaction for longer than this many milliseconds."),
			withDefault(boolean("inherit", "Whether the role inherits the privileges of the roles it is a member of."), true),
			withDefault(boolean("login", "Whether the role may log in."), false),
			autoNamed(str("name", "The name of the role (default: auto-named from the resource name).")),
			secret(str("password", "The role's password.")),
			secret(str("passwordWo", "The role's password, write-only: never kept in the state; applied when passwordWoVersion changes.")),
			str("passwordWoVersion", "Change it to apply passwordWo again."),
			withDefault(boolean("replication", "Whether the role may initiate streaming replication."), false),
			stringList("roles", "Roles granted to this role."),
			stringList("searchPaths", "The role's search_path."),
			withDefault(boolean("skipDropRole", "Do not run DROP ROLE when the resource is deleted."), false),
			withDefault(boolean("skipReassignOwned", "Do not run REASSIGN OWNED / DROP OWNED when the resource is deleted."), false),
			integer("statementTimeout", "Abort any statement that takes more than this many milliseconds."),
			withDefault(boolean("superuser", "Whether the role is a superuser."), false),
			withDefault(str("validUntil", "When the role's password stops being valid."), "infinity"),
		},
		Validate: func(in core.Props) []core.Failure {
			var out []core.Failure
			if in.Has("password") && (in.Has("passwordWo") || in.Has("passwordWoVersion")) {
				out = append(out, core.Failure{Property: "password", Reason: "postgresql.Role: password conflicts with passwordWo/passwordWoVersion: give one or the other"})
			}
			if in.Has("passwordWo") != in.Has("passwordWoVersion") {
				out = append(out, core.Failure{Property: "passwordWo", Reason: "postgresql.Role: passwordWo and passwordWoVersion go together"})
			}
			if in.Known("connectionLimit") && in.Has("connectionLimit") && in.Int("connectionLimit") < -1 {
				out = append(out, core.Failure{Property: "connectionLimit", Reason: "postgresql.Role: connectionLimit must be -1 (no limit) or more"})
			}
			for _, k := range []string{"statementTimeout", "idleInTransactionSessionTimeout"} {
				if in.Known(k) && in.Int(k) < 0 {
					out = append(out, core.Failure{Property: k, Reason: "postgresql.Role: " + k + " must be 0 or more milliseconds"})
				}
			}
			return out
		},
		Create: func(ctx context.Context, req *core.Request, in core.Props) (string, core.Props, error) {
			c, err := clientOf(req)
			if err != nil {
				return "", nil, err
			}
			r, err := c.CreateRole(ctx, roleFrom(in))
			if err != nil {
				return "", nil, named(req, "Role", err)
			}
			return r.Name, roleProps(r, in), nil
		},
		Read: func(ctx context.Context, req *core.Request, id string, state, in core.Props) (string, core.Props, error) {
			c, err := clientOf(req)
			if err != nil {
				return "", nil, err
			}
			name := state.String("name")
			if name == "" {
				name = id
			}
			prior := roleFrom(state)
			prior.ValidUntil = state.String("validUntil")
			r, err := c.ReadRole(ctx, name, prior)
			if err != nil || r == nil {
				return "", nil, named(req, "Role", err)
			}
			// The id stays what the engine has (a rename keeps it), as long as the role is there.
			newID := id
			if len(state) == 0 || newID == "" {
				newID = r.Name
			}
			seen := state
			if len(state) == 0 {
				seen = in
			}
			return newID, roleProps(*r, seen), nil
		},
		Update: func(ctx context.Context, req *core.Request, state, _, in core.Props) (core.Props, error) {
			c, err := clientOf(req)
			if err != nil {
				return nil, err
			}
			r, err := c.UpdateRole(ctx, roleFrom(state), roleFrom(in))
			if err != nil {
				return nil, named(req, "Role", err)
			}
			return roleProps(r, in), nil
		},
		Delete: func(ctx context.Context, req *core.Request, state core.Props) error {
			c, err := clientOf(req)
			if err != nil {
				return err
			}
			return named(req, "Role", c.DeleteRole(ctx, roleFrom(state)))
		},
	}
}

func roleFrom(p core.Props) Role {
	r := RoleDefaults()
	r.Name = p.String("name")
	r.Password, r.PasswordWO, r.PasswordWOVersion = p.String("password"), p.String("passwordWo"), p.String("passwordWoVersion")
	r.AssumeRole = p.String("assumeRole")
	r.Roles, r.SearchPath = p.Strings("roles"), p.Strings("searchPaths")
	r.StatementTimeout, r.IdleInTxTimeout = p.Int("statementTimeout"), p.Int("idleInTransactionSessionTimeout")
	r.Superuser, r.CreateDatabase, r.CreateRole = p.Bool("superuser"), p.Bool("createDatabase"), p.Bool("createRole")
	r.Login, r.Replication, r.BypassRLS = p.Bool("login"), p.Bool("replication"), p.Bool("bypassRowLevelSecurity")
	r.SkipDropRole, r.SkipReassignOwned = p.Bool("skipDropRole"), p.Bool("skipReassignOwned")
	if v, ok := p.OptBool("inherit"); ok {
		r.Inherit = v
	}
	if v, ok := p.OptBool("encryptedPassword"); ok {
		r.EncryptedPassword = v
	}
	if v, ok := p.OptInt("connectionLimit"); ok {
		r.ConnectionLimit = v
	}
	if v, ok := p.OptString("validUntil"); ok {
		r.ValidUntil = v
	}
	return r
}

func roleProps(r Role, in core.Props) core.Props {
	p := core.NewProps().Set("name", r.Name)
	for _, b := range []struct {
		key string
		v   bool
	}{
		{"bypassRowLevelSecurity", r.BypassRLS}, {"createDatabase", r.CreateDatabase}, {"createRole", r.CreateRole},
		{"encryptedPassword", r.EncryptedPassword}, {"inherit", r.Inherit}, {"login", r.Login},
		{"replication", r.Replication}, {"skipDropRole", r.SkipDropRole}, {"skipReassignOwned", r.SkipReassignOwned},
		{"superuser", r.Superuser},
	} {
		p.Set(b.key, b.v)
	}
	p.Set("connectionLimit", r.ConnectionLimit).Set("validUntil", r.ValidUntil)
	optional(p, in, "password", r.Password)
	optional(p, in, "passwordWoVersion", r.PasswordWOVersion)
	optional(p, in, "assumeRole", r.AssumeRole)
	optional(p, in, "roles", sortedCopy(r.Roles))
	optional(p, in, "searchPaths", r.SearchPath)
	optional(p, in, "statementTimeout", r.StatementTimeout)
	optional(p, in, "idleInTransactionSessionTimeout", r.IdleInTxTimeout)
	if v, ok := in.OptString("encrypted"); ok {
		p.Set("encrypted", v)
	}
	// passwordWo is write-only: never an output.
	return p
}

// -------------------------------------------------------------------- grant ----

// sameSet compares two lists as sets (upstream declares them TypeSet).
func sameSet(a, b resource.PropertyValue) bool {
	if !a.IsArray() || !b.IsArray() {
		return a.DeepEquals(b)
	}
	return sameStrings(listOf(a), listOf(b))
}

func listOf(v resource.PropertyValue) []string {
	var out []string
	for _, e := range v.ArrayValue() {
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

func sameStrings(a, b []string) bool {
	x, y := normalizeSet(a), normalizeSet(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

func grantResource() *core.Resource {
	privileges := required(stringList("privileges", "The privileges to grant (a set): ALL or the object type's privileges."))
	privileges.Equal = sameSet
	objects := forceNew(stringList("objects", "The objects to grant on (a set; empty: all objects of the type in the schema)."))
	objects.Equal = sameSet
	columns := forceNew(stringList("columns", "The columns to grant on (a set; objectType column)."))
	columns.Equal = sameSet
	return &core.Resource{
		Token: GrantToken,
		// As pulumi-postgresql: the new grant must not be revoked by deleting the old one.
		DeleteBeforeReplace: true,
		Description:         "Privileges of a role on a database, a schema or objects in a schema. Replaced when anything but privileges changes; a change of privileges revokes and grants again in one transaction. Not importable (as upstream).",
		Properties: []*core.Property{
			columns,
			forceNew(required(str("database", "The database to grant privileges on."))),
			forceNew(required(str("objectType", "The object type: "+strings.Join(ObjectTypes, ", ")+"."))),
			objects,
			privileges,
			forceNew(required(str("role", "The role to grant privileges to (public: every role)."))),
			forceNew(str("schema", "The schema of the objects (not for database, foreign_data_wrapper, foreign_server).")),
			forceNew(withDefault(boolean("withGrantOption", "Whether the role may grant the privileges to others."), false)),
		},
		Validate: func(in core.Props) []core.Failure {
			for _, k := range []string{"objectType", "schema", "objects", "columns", "privileges"} {
				if !in.Known(k) {
					return nil // checked again once known
				}
			}
			var out []core.Failure
			for _, p := range grantFrom(in).Validate() {
				out = append(out, core.Failure{Property: "", Reason: "postgresql.Grant: " + p})
			}
			return out
		},
		Create: func(ctx context.Context, req *core.Request, in core.Props) (string, core.Props, error) {
			c, err := clientOf(req)
			if err != nil {
				return "", nil, err
			}
			g, err := c.ApplyGrant(ctx, nil, grantFrom(in))
			if err != nil {
				return "", nil, named(req, "Grant", err)
			}
			return GrantID(g), grantProps(g, in), nil
		},
		Read: func(ctx context.Context, req *core.Request, id string, state, _ core.Props) (string, core.Props, error) {
			if len(state) == 0 {
				return "", nil, fmt.Errorf("postgresql.Grant %q: a Grant cannot be imported (as upstream, which has no importer): declare it in the program and run `pulumi up`; granting again is idempotent", req.Name)
			}
			c, err := clientOf(req)
			if err != nil {
				return "", nil, err
			}
			g, err := c.ReadGrant(ctx, grantFrom(state))
			if err != nil || g == nil {
				return "", nil, named(req, "Grant", err)
			}
			return id, grantProps(*g, state), nil
		},
		Update: func(ctx context.Context, req *core.Request, state, _, in core.Props) (core.Props, error) {
			c, err := clientOf(req)
			if err != nil {
				return nil, err
			}
			old := grantFrom(state)
			g, err := c.ApplyGrant(ctx, &old, grantFrom(in))
			if err != nil {
				return nil, named(req, "Grant", err)
			}
			return grantProps(g, in), nil
		},
		Delete: func(ctx context.Context, req *core.Request, state core.Props) error {
			c, err := clientOf(req)
			if err != nil {
				return err
			}
			return named(req, "Grant", c.DeleteGrant(ctx, grantFrom(state)))
		},
	}
}

func grantFrom(p core.Props) Grant {
	return Grant{Role: p.String("role"), Database: p.String("database"), Schema: p.String("schema"),
		ObjectType: p.String("objectType"), Objects: p.Strings("objects"), Columns: p.Strings("columns"),
		Privileges: p.Strings("privileges"), WithGrantOption: p.Bool("withGrantOption")}
}

func grantProps(g Grant, in core.Props) core.Props {
	p := core.NewProps().Set("role", g.Role).Set("database", g.Database).Set("objectType", g.ObjectType).
		Set("withGrantOption", g.WithGrantOption)
	// Privileges keep the program's order while they are the same set.
	if priv := in.Strings("privileges"); sameStrings(priv, g.Privileges) {
		p.Set("privileges", priv)
	} else {
		p.Set("privileges", normalizeSet(g.Privileges))
	}
	optional(p, in, "schema", g.Schema)
	optional(p, in, "objects", keepOrder(in.Strings("objects"), g.Objects))
	optional(p, in, "columns", keepOrder(in.Strings("columns"), g.Columns))
	return p
}

func keepOrder(declared, got []string) []string {
	if sameStrings(declared, got) {
		return declared
	}
	return normalizeSet(got)
}
