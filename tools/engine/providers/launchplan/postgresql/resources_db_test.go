package postgresql

import (
	"slices"
	"strings"
	"testing"
)

// Every test here works as the scratch database's owner, a credential like
// Heroku's default one (no superuser, no CREATEROLE), unless it says otherwise.

func TestExtensionLifecycle(t *testing.T) {
	s := scratch(t)
	c := NewClient(s.owner)
	defer c.Close()
	ctx := ctxT(t)

	got, err := c.CreateExtension(ctx, Extension{Name: "citext", Version: "1.6"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Database != s.db || got.Schema != "public" || got.Version != "1.6" {
		t.Fatalf("computed properties: %+v", got)
	}
	if v := s.query(t, "SELECT extversion FROM pg_extension WHERE extname = 'citext'"); v != "1.6" {
		t.Fatalf("server has version %s", v)
	}
	// Creating again adopts it (IF NOT EXISTS), as upstream.
	if _, err := c.CreateExtension(ctx, Extension{Name: "citext"}); err != nil {
		t.Fatal(err)
	}
	// In place: version and schema.
	// (ALTER EXTENSION SET SCHEMA needs ownership of the extension's objects:
	// a trusted extension's belong to the bootstrap superuser.)
	upd, err := c.UpdateExtension(ctx, got, Extension{Name: "citext", Version: "1.8"})
	if err != nil || upd.Version != "1.8" {
		t.Fatalf("version update as the database owner: %+v %v", upd, err)
	}
	s.sql(t, "CREATE SCHEMA ext AUTHORIZATION "+ident(s.owner.Username))
	su := NewClient(s.super)
	defer su.Close()
	upd, err = su.UpdateExtension(ctx, upd, Extension{Name: "citext", Version: "1.8", Schema: "ext"})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Version != "1.8" || upd.Schema != "ext" {
		t.Fatalf("after update: %+v", upd)
	}
	if v := s.query(t, "SELECT n.nspname || ' ' || e.extversion FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE extname = 'citext'"); v != "ext 1.8" {
		t.Fatalf("server has %s", v)
	}
	// An extension neither trusted nor on Heroku's allow list (which the sandbox's server honours,
	// as Heroku does): the error says why and what to do.
	_, err = c.CreateExtension(ctx, Extension{Name: "file_fdw"})
	if err == nil || !strings.Contains(err.Error(), "file_fdw") || !strings.Contains(err.Error(), "superuser") {
		t.Fatalf("untrusted extension error: %v", err)
	}
	// Dropped by hand: a read sees it gone.
	s.sql(t, "DROP EXTENSION citext")
	if r, err := c.ReadExtension(ctx, s.db, "citext"); err != nil || r != nil {
		t.Fatalf("read after a manual drop: %+v, %v", r, err)
	}
	if _, err := c.CreateExtension(ctx, Extension{Name: "citext"}); err != nil {
		t.Fatal(err)
	}
	s.sql(t, "CREATE TABLE public.uses_citext (v citext)")
	err = c.DeleteExtension(ctx, Extension{Name: "citext"})
	if err == nil || !strings.Contains(err.Error(), "dropCascade") {
		t.Fatalf("delete of a used extension: %v", err)
	}
	if err := c.DeleteExtension(ctx, Extension{Name: "citext", DropCascade: true}); err != nil {
		t.Fatal(err)
	}
	if r, _ := c.ReadExtension(ctx, s.db, "citext"); r != nil {
		t.Fatal("still there after delete")
	}
	// A missing database reads as gone (the extension went with it).
	if r, err := c.ReadExtension(ctx, "lp_no_such_db", "citext"); err != nil || r != nil {
		t.Fatalf("read in a missing database: %+v, %v", r, err)
	}
}

func TestSchemaLifecycle(t *testing.T) {
	s := scratch(t)
	c := NewClient(s.owner)
	defer c.Close()
	ctx := ctxT(t)

	got, err := c.CreateSchema(ctx, Schema{Name: "app", IfNotExists: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.Owner != s.owner.Username || got.Database != s.db {
		t.Fatalf("computed: %+v", got)
	}
	// Rename in place.
	ren, err := c.UpdateSchema(ctx, got, Schema{Name: "app2", IfNotExists: true})
	if err != nil {
		t.Fatal(err)
	}
	if ren.Name != "app2" || s.query(t, "SELECT count(*)::text FROM pg_namespace WHERE nspname IN ('app', 'app2')") != "1" {
		t.Fatalf("rename: %+v", ren)
	}
	if r, _ := c.ReadSchema(ctx, s.db, "app"); r != nil {
		t.Fatal("old name still readable")
	}
	// Owner change (as superuser: the owner may not hand it to a role it is not a member of).
	other := s.roleName(t)
	s.sql(t, "CREATE ROLE "+other)
	su := NewClient(s.super)
	defer su.Close()
	own, err := su.UpdateSchema(ctx, ren, Schema{Name: "app2", Owner: other})
	if err != nil {
		t.Fatal(err)
	}
	if own.Owner != other {
		t.Fatalf("owner: %+v", own)
	}
	// A schema with objects: RESTRICT refuses with a clear error, CASCADE drops.
	s.sql(t, "CREATE TABLE app2.t (id int)")
	if err := su.DeleteSchema(ctx, Schema{Name: "app2"}); err == nil || !strings.Contains(err.Error(), "dropCascade") {
		t.Fatalf("restrict: %v", err)
	}
	if err := su.DeleteSchema(ctx, Schema{Name: "app2", DropCascade: true}); err != nil {
		t.Fatal(err)
	}
	if r, _ := c.ReadSchema(ctx, s.db, "app2"); r != nil {
		t.Fatal("still there")
	}
	// Deleting what is gone is fine; an existing schema is adopted.
	if err := c.DeleteSchema(ctx, Schema{Name: "app2"}); err != nil {
		t.Fatal(err)
	}
	s.sql(t, "CREATE SCHEMA pre AUTHORIZATION "+ident(s.owner.Username))
	if _, err := c.CreateSchema(ctx, Schema{Name: "pre"}); err != nil {
		t.Fatal(err)
	}
	// Quoting: a name needing quotes.
	odd := `we"ird Name`
	if _, err := c.CreateSchema(ctx, Schema{Name: odd, IfNotExists: true}); err != nil {
		t.Fatal(err)
	}
	if r, err := c.ReadSchema(ctx, s.db, odd); err != nil || r == nil {
		t.Fatalf("odd name: %+v %v", r, err)
	}
}

func TestRoleNeedsCreateRoleOnHerokuLikeCredential(t *testing.T) {
	s := scratch(t)
	c := NewClient(s.owner)
	defer c.Close()
	name := s.roleName(t)
	pw := "pw-" + randomName("x")
	r := RoleDefaults()
	r.Name, r.Login, r.Password = name, true, pw
	_, err := c.CreateRole(ctxT(t), r)
	if err == nil {
		t.Fatal("a credential without CREATEROLE created a role")
	}
	msg := err.Error()
	for _, want := range []string{name, "CREATEROLE", "heroku pg:credentials:create"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, pw) {
		t.Fatalf("error shows the password: %s", msg)
	}
	// The server's log gets the statement, but only a SCRAM verifier in it.
	if strings.Contains(s.query(t, "SELECT current_setting('log_min_error_statement')"), "error") {
		t.Logf("log_min_error_statement=error: the failing CREATE ROLE is logged with a verifier, not the password")
	}
}

func TestRoleLifecycleSuperuser(t *testing.T) {
	s := scratch(t)
	c := NewClient(s.super)
	defer c.Close()
	ctx := ctxT(t)
	name, member := s.roleName(t), s.roleName(t)
	s.sql(t, "CREATE ROLE "+member)
	pw := "s3cret-'quote\\slash-" + randomName("")
	r := RoleDefaults()
	r.Name, r.Login, r.Password, r.ConnectionLimit = name, true, pw, 3
	r.Roles, r.SearchPath, r.StatementTimeout = []string{member}, []string{"app", "public"}, 5000
	got, err := c.CreateRole(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if got.Password != pw || !got.Login || got.ConnectionLimit != 3 || !slices.Equal(got.Roles, []string{member}) ||
		!slices.Equal(got.SearchPath, []string{"app", "public"}) || got.StatementTimeout != 5000 || got.ValidUntil != "infinity" {
		t.Fatalf("read back: %+v", got)
	}
	stored := s.query(t, "SELECT rolpassword FROM pg_authid WHERE rolname = $1", name)
	if !strings.HasPrefix(stored, "SCRAM-SHA-256$") || !scramMatches(stored, pw) {
		t.Fatalf("stored password is not a verifier of the password: %.20s", stored)
	}
	// The password works for logging in.
	login := s.super
	login.Username, login.Password, login.Superuser, login.Database = name, pw, false, "postgres"
	lc := NewClient(login)
	if _, err := lc.ServerVersion(ctx); err != nil {
		t.Fatalf("the role cannot log in with its password: %v", err)
	}
	lc.Close()
	// Changed by hand: a superuser's read sees another password (a diff).
	s.sql(t, "ALTER ROLE "+ident(name)+" PASSWORD 'changed-by-hand'")
	drift, err := c.ReadRole(ctx, name, got)
	if err != nil {
		t.Fatal(err)
	}
	if !scramMatches(s.query(t, "SELECT rolpassword FROM pg_authid WHERE rolname = $1", name), "changed-by-hand") {
		t.Fatal("a verifier made by the server does not verify")
	}
	if drift.Password == pw || drift.Password == "changed-by-hand" {
		t.Fatalf("password drift not seen as a verifier: %q", drift.Password)
	}
	// Update in place: password back, attributes, rename, memberships.
	next := got
	next.Name = name + "_r"
	t.Cleanup(func() { s.sql(t, "DROP ROLE IF EXISTS "+ident(next.Name)) })
	next.ConnectionLimit, next.CreateDatabase, next.Roles, next.SearchPath, next.StatementTimeout = 5, true, nil, nil, 0
	upd, err := c.UpdateRole(ctx, *drift, next)
	if err != nil {
		t.Fatal(err)
	}
	if upd.Name != next.Name || upd.Password != pw || upd.ConnectionLimit != 5 || !upd.CreateDatabase || len(upd.Roles) != 0 || len(upd.SearchPath) != 0 || upd.StatementTimeout != 0 {
		t.Fatalf("after update: %+v", upd)
	}
	if r, _ := c.ReadRole(ctx, name, Role{}); r != nil {
		t.Fatal("old name still there after rename")
	}
	// Delete reassigns what it owns.
	s.sql(t, "GRANT CREATE ON DATABASE "+s.db+" TO "+ident(next.Name), "CREATE SCHEMA owned_by_role AUTHORIZATION "+ident(next.Name))
	if err := c.DeleteRole(ctx, upd); err != nil {
		t.Fatal(err)
	}
	if r, _ := c.ReadRole(ctx, next.Name, Role{}); r != nil {
		t.Fatal("role still there")
	}
	if o := s.query(t, "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'owned_by_role'"); o != s.super.Username {
		t.Fatalf("owned schema went to %s", o)
	}
	if err := c.DeleteRole(ctx, upd); err != nil {
		t.Fatalf("deleting a role that is gone: %v", err)
	}
}

func TestRoleWithCreateRoleNotSuperuser(t *testing.T) {
	s := scratch(t)
	s.sql(t, "ALTER ROLE "+ident(s.owner.Username)+" CREATEROLE")
	c := NewClient(s.owner) // superuser=false, as launchplan declares it
	defer c.Close()
	ctx := ctxT(t)
	name := s.roleName(t)
	r := RoleDefaults()
	r.Name, r.Login, r.Password = name, true, "pw-"+randomName("")
	got, err := c.CreateRole(ctx, r)
	if err != nil {
		t.Fatalf("a CREATEROLE credential with superuser=false could not create a plain role: %v", err)
	}
	if got.Password != r.Password || got.Superuser || got.Replication || got.BypassRLS {
		t.Fatalf("read back: %+v", got)
	}
	// superuser=false never reads pg_authid: a password changed by hand is not seen.
	s.sql(t, "ALTER ROLE "+ident(name)+" PASSWORD 'by-hand'")
	again, err := c.ReadRole(ctx, name, got)
	if err != nil || again.Password != r.Password {
		t.Fatalf("read with superuser=false: %+v %v", again, err)
	}
	// Declared superuser=true but not one: a clear error, naming the fix.
	liar := s.owner
	liar.Superuser = true
	lc := NewClient(liar)
	defer lc.Close()
	_, err = lc.ReadRole(ctx, name, got)
	if err == nil || !strings.Contains(err.Error(), "superuser=false") {
		t.Fatalf("read as a false superuser: %v", err)
	}
	// Asking for a superuser-only attribute: a clear error.
	bad := RoleDefaults()
	bad.Name, bad.Superuser = s.roleName(t), true
	if _, err := c.CreateRole(ctx, bad); err == nil || !strings.Contains(err.Error(), "superuser") {
		t.Fatalf("SUPERUSER by a non-superuser: %v", err)
	}
	upd := got
	upd.ConnectionLimit = 2
	if _, err := c.UpdateRole(ctx, got, upd); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRole(ctx, upd); err != nil {
		t.Fatal(err)
	}
}

func TestGrantLifecycle(t *testing.T) {
	s := scratch(t)
	su := NewClient(s.super)
	defer su.Close()
	c := NewClient(s.owner)
	defer c.Close()
	ctx := ctxT(t)
	role := s.roleName(t)
	s.sql(t, "CREATE ROLE "+role+" LOGIN",
		"CREATE SCHEMA app AUTHORIZATION "+ident(s.owner.Username))
	ownerSQL := func(stmt string) {
		t.Helper()
		p, err := c.pool(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	ownerSQL("CREATE TABLE app.a (id int)")
	ownerSQL("CREATE TABLE app.b (id int)")

	// As the owner (not a superuser): schema, database and table grants.
	schemaG := Grant{Role: role, Database: s.db, Schema: "app", ObjectType: "schema", Privileges: []string{"USAGE"}}
	if _, err := c.ApplyGrant(ctx, nil, schemaG); err != nil {
		t.Fatal(err)
	}
	dbG := Grant{Role: role, Database: s.db, ObjectType: "database", Privileges: []string{"CONNECT", "TEMPORARY"}}
	if _, err := c.ApplyGrant(ctx, nil, dbG); err != nil {
		t.Fatal(err)
	}
	tableG := Grant{Role: role, Database: s.db, Schema: "app", ObjectType: "table", Privileges: []string{"INSERT", "SELECT"}}
	got, err := c.ApplyGrant(ctx, nil, tableG)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Privileges, []string{"INSERT", "SELECT"}) {
		t.Fatalf("read back: %+v", got)
	}
	if v := s.query(t, "SELECT has_table_privilege($1, 'app.b', 'INSERT')::text", role); v != "true" {
		t.Fatal("INSERT on app.b not granted")
	}
	// Revoked by hand: the read shows what is left (a diff for refresh).
	s.sql(t, "REVOKE INSERT ON app.b FROM "+role)
	drift, err := c.ReadGrant(ctx, tableG)
	if err != nil || drift == nil || !slices.Equal(drift.Privileges, []string{"SELECT"}) {
		t.Fatalf("drift: %+v %v", drift, err)
	}
	s.sql(t, "REVOKE CONNECT ON DATABASE "+s.db+" FROM "+role)
	if d, err := c.ReadGrant(ctx, dbG); err != nil || !slices.Equal(d.Privileges, []string{"TEMPORARY"}) {
		t.Fatalf("database drift: %+v %v", d, err)
	}
	// Privileges change in place: revoke + grant in one transaction.
	narrower := tableG
	narrower.Privileges = []string{"SELECT"}
	if _, err := c.ApplyGrant(ctx, &tableG, narrower); err != nil {
		t.Fatal(err)
	}
	if v := s.query(t, "SELECT has_table_privilege($1, 'app.a', 'INSERT')::text", role); v != "false" {
		t.Fatal("INSERT still granted after narrowing")
	}
	// ALL matches every privilege of the type.
	all := Grant{Role: role, Database: s.db, Schema: "app", ObjectType: "schema", Privileges: []string{"ALL"}}
	if g, err := c.ApplyGrant(ctx, &schemaG, all); err != nil || !slices.Equal(g.Privileges, []string{"ALL"}) {
		t.Fatalf("ALL: %+v %v", g, err)
	}
	// Specific objects, a column grant, then deletes.
	objG := Grant{Role: role, Database: s.db, Schema: "app", ObjectType: "table", Objects: []string{"a"}, Privileges: []string{"UPDATE"}}
	if _, err := c.ApplyGrant(ctx, nil, objG); err != nil {
		t.Fatal(err)
	}
	colG := Grant{Role: role, Database: s.db, Schema: "app", ObjectType: "column", Objects: []string{"b"}, Columns: []string{"id"}, Privileges: []string{"UPDATE"}}
	if g, err := c.ApplyGrant(ctx, nil, colG); err != nil || !slices.Equal(g.Columns, []string{"id"}) {
		t.Fatalf("column grant: %+v %v", g, err)
	}
	for _, g := range []Grant{narrower, objG, colG, all, dbG} {
		if err := c.DeleteGrant(ctx, g); err != nil {
			t.Fatalf("delete %s: %v", GrantID(g), err)
		}
	}
	if v := s.query(t, "SELECT has_schema_privilege($1, 'app', 'USAGE')::text", role); v != "false" {
		t.Fatal("USAGE still granted after delete")
	}
	// The schema gone: a read says gone, a delete is fine.
	s.sql(t, "DROP SCHEMA app CASCADE")
	if g, err := c.ReadGrant(ctx, tableG); err != nil || g != nil {
		t.Fatalf("read without schema: %+v %v", g, err)
	}
	if err := c.DeleteGrant(ctx, tableG); err != nil {
		t.Fatal(err)
	}
	// A grant to a role that does not exist names it and says what to do.
	_, err = su.ApplyGrant(ctx, nil, Grant{Role: "lp_t_missing", Database: s.db, ObjectType: "database", Privileges: []string{"CONNECT"}})
	if err == nil || !strings.Contains(err.Error(), "lp_t_missing") || !strings.Contains(err.Error(), "create the role first") {
		t.Fatalf("missing role: %v", err)
	}
}
