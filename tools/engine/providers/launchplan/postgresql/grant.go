package postgresql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Grant is postgresql:index/grant:Grant. Upstream: every property but
// privileges forces a replacement; a change of privileges revokes and grants
// again in one transaction (the role never loses a privilege it keeps); no
// import; ID "<role>_<database>[_<schema>]_<objectType>[_<objects>...][_<columns>...]".
type Grant struct {
	Role            string
	Database        string
	Schema          string
	ObjectType      string
	Objects         []string
	Columns         []string
	Privileges      []string
	WithGrantOption bool
}

// ObjectTypes lists the object types upstream accepts, in its order.
var ObjectTypes = []string{"database", "function", "procedure", "routine", "schema", "sequence", "table", "foreign_data_wrapper", "foreign_server", "column"}

// allowedPrivileges per object type, as upstream (and the GRANT reference page).
var allowedPrivileges = map[string][]string{
	"database":             {"ALL", "CREATE", "CONNECT", "TEMPORARY"},
	"table":                {"ALL", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"},
	"sequence":             {"ALL", "USAGE", "SELECT", "UPDATE"},
	"schema":               {"ALL", "CREATE", "USAGE"},
	"function":             {"ALL", "EXECUTE"},
	"procedure":            {"ALL", "EXECUTE"},
	"routine":              {"ALL", "EXECUTE"},
	"foreign_data_wrapper": {"ALL", "USAGE"},
	"foreign_server":       {"ALL", "USAGE"},
	"column":               {"ALL", "SELECT", "INSERT", "UPDATE", "REFERENCES"},
}

func noSchemaType(t string) bool {
	return t == "database" || t == "foreign_data_wrapper" || t == "foreign_server"
}

// GrantID is upstream's ID.
func GrantID(g Grant) string {
	parts := []string{g.Role, g.Database}
	if !noSchemaType(g.ObjectType) {
		parts = append(parts, g.Schema)
	}
	parts = append(parts, g.ObjectType)
	parts = append(parts, sortedCopy(g.Objects)...)
	parts = append(parts, sortedCopy(g.Columns)...)
	return strings.Join(parts, "_")
}

// Validate answers every problem with the declared grant (upstream's checks).
func (g Grant) Validate() []string {
	var out []string
	allowed, ok := allowedPrivileges[g.ObjectType]
	if !ok {
		return []string{fmt.Sprintf("objectType %q is not one of %s", g.ObjectType, strings.Join(ObjectTypes, ", "))}
	}
	if g.Schema == "" && !noSchemaType(g.ObjectType) {
		out = append(out, fmt.Sprintf("schema is required when objectType is %q", g.ObjectType))
	}
	if len(g.Objects) > 0 && (g.ObjectType == "database" || g.ObjectType == "schema") {
		out = append(out, "objects cannot be given when objectType is \"database\" or \"schema\"")
	}
	if len(g.Columns) > 0 && g.ObjectType != "column" {
		out = append(out, "columns can only be given when objectType is \"column\"")
	}
	if g.ObjectType == "column" {
		if len(g.Columns) == 0 {
			out = append(out, "columns are required when objectType is \"column\"")
		}
		if len(g.Privileges) != 1 {
			out = append(out, "exactly one privilege is required when objectType is \"column\"")
		}
		if len(g.Objects) != 1 {
			out = append(out, "exactly one table is required in objects when objectType is \"column\"")
		}
	}
	if (g.ObjectType == "foreign_data_wrapper" || g.ObjectType == "foreign_server") && len(g.Objects) != 1 {
		out = append(out, fmt.Sprintf("exactly one name is required in objects when objectType is %q", g.ObjectType))
	}
	for _, p := range g.Privileges {
		if !slices.Contains(allowed, p) {
			out = append(out, fmt.Sprintf("%q is not a privilege of objectType %q (allowed: %s)", p, g.ObjectType, strings.Join(allowed, ", ")))
		}
	}
	return out
}

// objectName quotes schema.object, keeping a function's argument list as
// written ("f(text, int)" -> "schema"."f"(text, int)).
func objectName(schema, object string) string {
	name, args, hasArgs := strings.Cut(object, "(")
	q := qualified(schema, name)
	if hasArgs {
		q += "(" + args
	}
	return q
}

func objectList(schema string, objects []string) string {
	out := make([]string, len(objects))
	for i, o := range sortedCopy(objects) {
		out[i] = objectName(schema, o)
	}
	return strings.Join(out, ",")
}

func identList(names []string) string {
	out := make([]string, len(names))
	for i, n := range sortedCopy(names) {
		out[i] = ident(n)
	}
	return strings.Join(out, ",")
}

func (g Grant) grantee() string {
	if g.Role == "public" {
		return "PUBLIC"
	}
	return ident(g.Role)
}

func (g Grant) grantSQL() string {
	privs := strings.Join(sortedCopy(g.Privileges), ",")
	var q string
	switch g.ObjectType {
	case "database":
		q = fmt.Sprintf("GRANT %s ON DATABASE %s TO %s", privs, ident(g.Database), g.grantee())
	case "schema":
		q = fmt.Sprintf("GRANT %s ON SCHEMA %s TO %s", privs, ident(g.Schema), g.grantee())
	case "foreign_data_wrapper":
		q = fmt.Sprintf("GRANT %s ON FOREIGN DATA WRAPPER %s TO %s", privs, ident(g.Objects[0]), g.grantee())
	case "foreign_server":
		q = fmt.Sprintf("GRANT %s ON FOREIGN SERVER %s TO %s", privs, ident(g.Objects[0]), g.grantee())
	case "column":
		q = fmt.Sprintf("GRANT %s (%s) ON TABLE %s TO %s", privs, identList(g.Columns), objectList(g.Schema, g.Objects), g.grantee())
	default: // table, sequence, function, procedure, routine
		kind := strings.ToUpper(g.ObjectType)
		if len(g.Objects) > 0 {
			q = fmt.Sprintf("GRANT %s ON %s %s TO %s", privs, kind, objectList(g.Schema, g.Objects), g.grantee())
		} else {
			q = fmt.Sprintf("GRANT %s ON ALL %sS IN SCHEMA %s TO %s", privs, kind, ident(g.Schema), g.grantee())
		}
	}
	if g.WithGrantOption {
		q += " WITH GRANT OPTION"
	}
	return q
}

// revokeSQL answers the REVOKE for g ("" when there is nothing to revoke).
func (g Grant) revokeSQL() string {
	switch g.ObjectType {
	case "database":
		return fmt.Sprintf("REVOKE ALL PRIVILEGES ON DATABASE %s FROM %s", ident(g.Database), g.grantee())
	case "schema":
		return fmt.Sprintf("REVOKE ALL PRIVILEGES ON SCHEMA %s FROM %s", ident(g.Schema), g.grantee())
	case "foreign_data_wrapper":
		return fmt.Sprintf("REVOKE ALL PRIVILEGES ON FOREIGN DATA WRAPPER %s FROM %s", ident(g.Objects[0]), g.grantee())
	case "foreign_server":
		return fmt.Sprintf("REVOKE ALL PRIVILEGES ON FOREIGN SERVER %s FROM %s", ident(g.Objects[0]), g.grantee())
	case "column":
		if len(g.Privileges) == 0 || len(g.Columns) == 0 {
			return ""
		}
		return fmt.Sprintf("REVOKE %s (%s) ON TABLE %s FROM %s", strings.Join(sortedCopy(g.Privileges), ","), identList(g.Columns), objectList(g.Schema, g.Objects), g.grantee())
	default:
		kind := strings.ToUpper(g.ObjectType)
		if len(g.Objects) == 0 {
			return fmt.Sprintf("REVOKE ALL PRIVILEGES ON ALL %sS IN SCHEMA %s FROM %s", kind, ident(g.Schema), g.grantee())
		}
		if len(g.Privileges) > 0 {
			// Only the privileges held, so column-level grants stay.
			return fmt.Sprintf("REVOKE %s ON %s %s FROM %s", strings.Join(sortedCopy(g.Privileges), ","), kind, objectList(g.Schema, g.Objects), g.grantee())
		}
		return fmt.Sprintf("REVOKE ALL PRIVILEGES ON %s %s FROM %s", kind, objectList(g.Schema, g.Objects), g.grantee())
	}
}

func (g Grant) locks() []string {
	return []string{roleLock(g.Role), "acl:" + g.Database}
}

// ownersToAssume: the schema's owner and its tables' owners, whose
// privileges a credential that is not a superuser borrows to grant on them.
func ownersToAssume(ctx context.Context, tx pgx.Tx, g Grant) ([]string, error) {
	if noSchemaType(g.ObjectType) {
		return nil, nil
	}
	var owners []string
	if g.ObjectType != "schema" {
		rows, err := tx.Query(ctx, "SELECT DISTINCT tableowner::text FROM pg_catalog.pg_tables WHERE schemaname = $1", g.Schema)
		if err != nil {
			return nil, err
		}
		if owners, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return nil, err
		}
	}
	owner, err := schemaOwner(ctx, tx, g.Schema)
	if err != nil {
		return nil, err
	}
	if owner == "" {
		return nil, errSchemaMissing
	}
	if !slices.Contains(owners, owner) {
		owners = append(owners, owner)
	}
	for i, o := range owners {
		if o == "pg_database_owner" {
			if owners[i], err = databaseOwner(ctx, tx); err != nil {
				return nil, err
			}
		}
	}
	return owners, nil
}

var errSchemaMissing = errors.New("schema missing")

func (c *Client) explainGrant(err error, g Grant, doing string) error {
	what := fmt.Sprintf("grant of %s on %s to %q", strings.Join(sortedCopy(g.Privileges), ","), g.target(), g.Role)
	switch {
	case errors.Is(err, errSchemaMissing):
		return fmt.Errorf("%s: %s: schema %q does not exist in database %q: create it first (declare the Schema and depend on it)", what, doing, g.Schema, g.Database)
	case sqlState(err) == "42704":
		return &explained{msg: fmt.Sprintf("%s: %s: %s: create the role first (pass the Role's name output as role)", what, doing, pgMessage(err)), cause: err}
	case sqlState(err) == "42501":
		return &explained{msg: fmt.Sprintf("%s: %s: permission denied (%s): the provider's user %q must own the objects, be a member of their owner, or hold the privileges WITH GRANT OPTION", what, doing, pgMessage(err), c.CurrentUser()), cause: err}
	}
	return &explained{msg: fmt.Sprintf("%s: %s: %s", what, doing, pgMessage(err)), cause: err}
}

func (g Grant) target() string {
	switch g.ObjectType {
	case "database":
		return fmt.Sprintf("database %q", g.Database)
	case "schema":
		return fmt.Sprintf("schema %q in database %q", g.Schema, g.Database)
	case "foreign_data_wrapper", "foreign_server":
		return fmt.Sprintf("%s %q", strings.ReplaceAll(g.ObjectType, "_", " "), strings.Join(g.Objects, ","))
	}
	if len(g.Objects) == 0 {
		return fmt.Sprintf("all %ss in schema %q of database %q", g.ObjectType, g.Schema, g.Database)
	}
	return fmt.Sprintf("%s %s in schema %q of database %q", g.ObjectType, strings.Join(g.Objects, ","), g.Schema, g.Database)
}

// ApplyGrant revokes what old granted (nil on create: what g names) and
// grants g, in one transaction, then reads it back.
func (c *Client) ApplyGrant(ctx context.Context, old *Grant, g Grant) (Grant, error) {
	if problems := g.Validate(); len(problems) > 0 {
		return g, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	prev := g
	if old != nil {
		prev = *old
	}
	doing := "granting"
	if old != nil {
		doing = "changing privileges"
	}
	err := c.inTx(ctx, g.Database, g.locks(), func(tx pgx.Tx) error {
		owners, err := ownersToAssume(ctx, tx, g)
		if err != nil {
			return c.explainGrant(err, g, doing)
		}
		return withRolesGranted(ctx, tx, owners, func() error {
			if q := prev.revokeSQL(); q != "" {
				if _, err := tx.Exec(ctx, q); err != nil {
					return c.explainGrant(err, g, "revoking before granting")
				}
			}
			if len(g.Privileges) == 0 {
				return nil
			}
			if _, err := tx.Exec(ctx, g.grantSQL()); err != nil {
				return c.explainGrant(err, g, doing)
			}
			return nil
		})
	})
	if err != nil {
		return g, err
	}
	got, err := c.ReadGrant(ctx, g)
	if err != nil {
		return g, err
	}
	if got == nil {
		return g, fmt.Errorf("grant to %q on %s cannot be read back: its role, database or schema is gone", g.Role, g.target())
	}
	return *got, nil
}

// DeleteGrant revokes what g grants; objects already gone are fine.
func (c *Client) DeleteGrant(ctx context.Context, g Grant) error {
	err := c.inTx(ctx, g.Database, g.locks(), func(tx pgx.Tx) error {
		if g.Role != "public" {
			if ok, err := roleExists(ctx, tx, g.Role); err != nil || !ok {
				return err // the role is gone, and its privileges with it
			}
		}
		owners, err := ownersToAssume(ctx, tx, g)
		if errors.Is(err, errSchemaMissing) {
			return nil
		}
		if err != nil {
			return c.explainGrant(err, g, "revoking")
		}
		if (g.ObjectType == "table" || g.ObjectType == "sequence" || g.ObjectType == "column") && len(g.Objects) > 0 {
			existing, err := existingRelations(ctx, tx, g)
			if err != nil {
				return c.explainGrant(err, g, "revoking")
			}
			if len(existing) == 0 {
				return nil // every object is gone, and its privileges with it
			}
			g.Objects = existing
		}
		return withRolesGranted(ctx, tx, owners, func() error {
			q := g.revokeSQL()
			if q == "" {
				return nil
			}
			if _, err := tx.Exec(ctx, q); err != nil {
				switch sqlState(err) {
				case "3F000", "42704":
					return nil
				}
				return c.explainGrant(err, g, "revoking")
			}
			return nil
		})
	})
	if isMissingDatabase(err) {
		return nil
	}
	return err
}

// existingRelations filters the declared tables/sequences to those that
// still exist (nil when none were declared: the grant covers ALL).
func existingRelations(ctx context.Context, tx pgx.Tx, g Grant) ([]string, error) {
	if len(g.Objects) == 0 {
		return nil, nil
	}
	kinds := []string{"r", "p", "v", "m", "f"}
	if g.ObjectType == "sequence" {
		kinds = []string{"S"}
	}
	rows, err := tx.Query(ctx, `SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = ANY($2) AND c.relkind::text = ANY($3)`, g.Schema, g.Objects, kinds)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if found == nil {
		found = []string{}
	}
	return found, nil
}

// ReadGrant answers g with the privileges the server shows when they differ
// from g's (so a refresh sees a privilege revoked by hand), or nil when the
// role, database or schema is gone.
func (c *Client) ReadGrant(ctx context.Context, g Grant) (*Grant, error) {
	var out *Grant
	err := c.inTx(ctx, g.Database, nil, func(tx pgx.Tx) error {
		if ok, err := databaseExists(ctx, tx, g.Database); err != nil || !ok {
			return err
		}
		var roleOID uint32
		if g.Role != "public" {
			err := tx.QueryRow(ctx, "SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1", g.Role).Scan(&roleOID)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return c.explainGrant(err, g, "reading")
			}
		}
		if !noSchemaType(g.ObjectType) && g.Schema != "" {
			if ok, err := schemaExists(ctx, tx, g.Schema); err != nil || !ok {
				return err
			}
		}
		got := g
		got.Privileges = slices.Clone(g.Privileges)
		got.Columns = slices.Clone(g.Columns)
		differs := func(granted []string) {
			if !privilegesEqual(granted, g) {
				got.Privileges = normalizeSet(granted)
			}
		}
		single := func(q string, args ...any) error {
			var granted []string
			if err := tx.QueryRow(ctx, q, args...).Scan(&granted); err != nil {
				return c.explainGrant(err, g, "reading")
			}
			differs(granted)
			return nil
		}
		var err error
		switch g.ObjectType {
		case "database":
			err = single(`SELECT array_agg(privilege_type::text) FROM (SELECT (aclexplode(datacl)).* FROM pg_catalog.pg_database WHERE datname = $1) p WHERE grantee = $2`, g.Database, roleOID)
		case "schema":
			err = single(`SELECT array_agg(privilege_type::text) FROM (SELECT (aclexplode(nspacl)).* FROM pg_catalog.pg_namespace WHERE nspname = $1) p WHERE grantee = $2`, g.Schema, roleOID)
		case "foreign_data_wrapper":
			err = single(`SELECT array_agg(privilege_type::text) FROM (SELECT (aclexplode(fdwacl)).* FROM pg_catalog.pg_foreign_data_wrapper WHERE fdwname = $1) p WHERE grantee = $2`, g.Objects[0], roleOID)
		case "foreign_server":
			err = single(`SELECT array_agg(privilege_type::text) FROM (SELECT (aclexplode(srvacl)).* FROM pg_catalog.pg_foreign_server WHERE srvname = $1) p WHERE grantee = $2`, g.Objects[0], roleOID)
		case "column":
			err = readColumnGrant(ctx, tx, g, roleOID, &got)
		default:
			var q string
			var args []any
			if g.ObjectType == "function" || g.ObjectType == "procedure" || g.ObjectType == "routine" {
				q = `SELECT p.proname::text, COALESCE(array_agg(a.privilege_type::text) FILTER (WHERE a.privilege_type IS NOT NULL), '{}')
					FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
					LEFT JOIN LATERAL (SELECT * FROM aclexplode(p.proacl)) a ON a.grantee = $1
					WHERE n.nspname = $2 GROUP BY p.proname ORDER BY 1`
				args = []any{roleOID, g.Schema}
			} else {
				kind := "r"
				if g.ObjectType == "sequence" {
					kind = "S"
				}
				q = `SELECT c.relname::text, COALESCE(array_agg(a.privilege_type::text) FILTER (WHERE a.privilege_type IS NOT NULL), '{}')
					FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
					LEFT JOIN LATERAL (SELECT * FROM aclexplode(c.relacl)) a ON a.grantee = $1
					WHERE n.nspname = $2 AND c.relkind = $3::"char" GROUP BY c.relname ORDER BY 1`
				args = []any{roleOID, g.Schema, kind}
			}
			rows, qerr := tx.Query(ctx, q, args...)
			if qerr != nil {
				return c.explainGrant(qerr, g, "reading")
			}
			type objPrivs struct {
				Name  string
				Privs []string
			}
			all, cerr := pgx.CollectRows(rows, func(r pgx.CollectableRow) (objPrivs, error) {
				var o objPrivs
				return o, r.Scan(&o.Name, &o.Privs)
			})
			if cerr != nil {
				return c.explainGrant(cerr, g, "reading")
			}
			for _, o := range all {
				if len(g.Objects) > 0 && !containsObject(g.Objects, o.Name) {
					continue
				}
				if !privilegesEqual(o.Privs, g) {
					got.Privileges = normalizeSet(o.Privs)
					break
				}
			}
		}
		if err != nil {
			return err
		}
		out = &got
		return nil
	})
	if isMissingDatabase(err) {
		return nil, nil
	}
	return out, err
}

func containsObject(objects []string, name string) bool {
	for _, o := range objects {
		if o == name || strings.HasPrefix(o, name+"(") {
			return true
		}
	}
	return false
}

func readColumnGrant(ctx context.Context, tx pgx.Tx, g Grant, roleOID uint32, got *Grant) error {
	rows, err := tx.Query(ctx, `SELECT a.attname::text, array_agg(x.privilege_type::text)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
		CROSS JOIN LATERAL aclexplode(a.attacl) x
		WHERE n.nspname = $1 AND c.relname = $2 AND x.grantee = $3 AND x.privilege_type = $4
		GROUP BY a.attname ORDER BY 1`, g.Schema, g.Objects[0], roleOID, g.Privileges[0])
	if err != nil {
		return err
	}
	type colPrivs struct {
		Name  string
		Privs []string
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (colPrivs, error) {
		var c colPrivs
		return c, r.Scan(&c.Name, &c.Privs)
	})
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, col := range cols {
		present[col.Name] = true
	}
	var kept []string
	for _, col := range g.Columns {
		if present[col] {
			kept = append(kept, col)
		}
	}
	if len(kept) != len(g.Columns) {
		got.Columns = kept
	}
	return nil
}

// privilegesEqual compares as sets; "ALL" matches every privilege of the type.
func privilegesEqual(granted []string, g Grant) bool {
	have, want := normalizeSet(granted), normalizeSet(g.Privileges)
	if slices.Equal(have, want) {
		return true
	}
	if !slices.Contains(want, "ALL") {
		return false
	}
	var implicit []string
	for _, p := range allowedPrivileges[g.ObjectType] {
		if p != "ALL" {
			implicit = append(implicit, p)
		}
	}
	return slices.Equal(have, normalizeSet(implicit))
}

func normalizeSet(s []string) []string {
	out := sortedCopy(s)
	return slices.Compact(out)
}
