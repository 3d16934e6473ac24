package postgresql

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Role is postgresql:index/role:Role. Upstream: nothing forces a replacement
// (a new name is ALTER ROLE ... RENAME TO); ID = the role's name.
type Role struct {
	Name              string
	Password          string // "" = none
	PasswordWO        string // write-only: applied on create and when PasswordWOVersion changes
	PasswordWOVersion string
	EncryptedPassword bool
	Superuser         bool
	CreateDatabase    bool
	CreateRole        bool
	Inherit           bool
	Login             bool
	Replication       bool
	BypassRLS         bool
	ConnectionLimit   int
	ValidUntil        string
	Roles             []string
	SearchPath        []string
	StatementTimeout  int
	IdleInTxTimeout   int
	AssumeRole        string
	SkipDropRole      bool
	SkipReassignOwned bool
}

// RoleDefaults are upstream's defaults for what the program leaves unset.
func RoleDefaults() Role {
	return Role{EncryptedPassword: true, Inherit: true, ConnectionLimit: -1, ValidUntil: "infinity"}
}

func roleLock(name string) string { return "role:" + name }

// explainRole turns a PostgreSQL error about a role into what to do.
func (c *Client) explainRole(err error, role, doing string) error {
	msg := pgMessage(err)
	if sqlState(err) == "42501" {
		hint := "a credential with CREATEROLE (and ADMIN OPTION on the role), or a superuser, is needed"
		switch {
		case strings.Contains(msg, "create role"):
			hint = fmt.Sprintf("the provider's user %q cannot create roles: a credential with CREATEROLE (or a superuser) is needed. On Heroku Postgres the default credential has no CREATEROLE: create the role as a Heroku credential instead (`heroku pg:credentials:create --name %s`)", c.CurrentUser(), role)
		case strings.Contains(msg, "SUPERUSER") || strings.Contains(msg, "superuser"):
			hint = "only a superuser may give or change the SUPERUSER attribute: keep superuser=false, or connect as a superuser"
		case strings.Contains(msg, "REPLICATION") || strings.Contains(msg, "BYPASSRLS"):
			hint = "only a superuser (or, from PostgreSQL 16, a role that has that attribute itself) may give REPLICATION or BYPASSRLS"
		}
		return &explained{msg: fmt.Sprintf("role %q: %s: permission denied (%s); %s", role, doing, msg, hint), cause: err}
	}
	if sqlState(err) == "42710" && doing == "creating" {
		return &explained{msg: fmt.Sprintf("role %q already exists on the server: import it (`pulumi import postgresql:index/role:Role <resource name> %s`) or choose another name", role, role), cause: err}
	}
	return &explained{msg: fmt.Sprintf("role %q: %s: %s", role, doing, msg), cause: err}
}

func boolOpt(v bool, yes, no string) string {
	if v {
		return yes
	}
	return no
}

// CreateRole creates the role with its attributes, memberships and settings
// in one transaction and answers what a read sees.
func (c *Client) CreateRole(ctx context.Context, r Role) (Role, error) {
	var opts []string
	password := r.Password
	if password == "" {
		password = r.PasswordWO
	}
	if password != "" {
		if strings.EqualFold(password, "NULL") {
			opts = append(opts, "PASSWORD NULL")
		} else {
			p, err := passwordForSQL(password)
			if err != nil {
				return r, err
			}
			opts = append(opts, "ENCRYPTED PASSWORD "+p)
		}
	}
	if r.ValidUntil != "" && !strings.EqualFold(r.ValidUntil, "infinity") {
		opts = append(opts, "VALID UNTIL "+literal(r.ValidUntil))
	} else {
		opts = append(opts, "VALID UNTIL 'infinity'")
	}
	opts = append(opts, "CONNECTION LIMIT "+strconv.Itoa(r.ConnectionLimit))
	// SUPERUSER, REPLICATION and BYPASSRLS are superuser-only attributes: a
	// provider declared superuser=false only names them to give them.
	if r.Superuser || c.cfg.Superuser {
		opts = append(opts, boolOpt(r.Superuser, "SUPERUSER", "NOSUPERUSER"))
	}
	opts = append(opts,
		boolOpt(r.CreateDatabase, "CREATEDB", "NOCREATEDB"),
		boolOpt(r.CreateRole, "CREATEROLE", "NOCREATEROLE"),
		boolOpt(r.Inherit, "INHERIT", "NOINHERIT"),
		boolOpt(r.Login, "LOGIN", "NOLOGIN"))
	if r.BypassRLS || c.cfg.Superuser {
		opts = append(opts, boolOpt(r.BypassRLS, "BYPASSRLS", "NOBYPASSRLS"))
	}
	if r.Replication || c.cfg.Superuser {
		opts = append(opts, boolOpt(r.Replication, "REPLICATION", "NOREPLICATION"))
	}
	stmt := fmt.Sprintf("CREATE ROLE %s WITH %s", ident(r.Name), strings.Join(opts, " "))
	err := c.inTx(ctx, "", []string{roleLock(r.Name)}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return c.explainRole(err, r.Name, "creating")
		}
		if err := grantMemberships(ctx, c, tx, r); err != nil {
			return err
		}
		if err := setSearchPath(ctx, c, tx, r); err != nil {
			return err
		}
		if r.StatementTimeout != 0 {
			if err := setTimeout(ctx, c, tx, r.Name, "statement_timeout", r.StatementTimeout); err != nil {
				return err
			}
		}
		if r.IdleInTxTimeout != 0 {
			if err := setTimeout(ctx, c, tx, r.Name, "idle_in_transaction_session_timeout", r.IdleInTxTimeout); err != nil {
				return err
			}
		}
		if r.AssumeRole != "" {
			return setAssumeRole(ctx, c, tx, r)
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	return c.roleReadBack(ctx, r)
}

func (c *Client) roleReadBack(ctx context.Context, r Role) (Role, error) {
	got, err := c.ReadRole(ctx, r.Name, r)
	if err != nil {
		return r, err
	}
	if got == nil {
		return r, fmt.Errorf("role %q is missing right after it was written", r.Name)
	}
	return *got, nil
}

func grantMemberships(ctx context.Context, c *Client, tx pgx.Tx, r Role) error {
	for _, m := range r.Roles {
		if _, err := tx.Exec(ctx, fmt.Sprintf("GRANT %s TO %s", ident(m), ident(r.Name))); err != nil {
			return c.explainRole(err, r.Name, fmt.Sprintf("granting membership in %q", m))
		}
	}
	return nil
}

func setSearchPath(ctx context.Context, c *Client, tx pgx.Tx, r Role) error {
	value := "DEFAULT"
	if len(r.SearchPath) > 0 {
		parts := make([]string, len(r.SearchPath))
		for i, p := range r.SearchPath {
			if strings.Contains(p, ", ") {
				return fmt.Errorf("role %q: searchPaths entry %q may not contain \", \"", r.Name, p)
			}
			parts[i] = ident(p)
		}
		value = strings.Join(parts, ", ")
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER ROLE %s SET search_path TO %s", ident(r.Name), value)); err != nil {
		return c.explainRole(err, r.Name, "setting search_path")
	}
	return nil
}

func setTimeout(ctx context.Context, c *Client, tx pgx.Tx, role, setting string, ms int) error {
	stmt := fmt.Sprintf("ALTER ROLE %s RESET %s", ident(role), setting)
	if ms != 0 {
		stmt = fmt.Sprintf("ALTER ROLE %s SET %s TO %d", ident(role), setting, ms)
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return c.explainRole(err, role, "setting "+setting)
	}
	return nil
}

func setAssumeRole(ctx context.Context, c *Client, tx pgx.Tx, r Role) error {
	stmt := fmt.Sprintf("ALTER ROLE %s RESET ROLE", ident(r.Name))
	if r.AssumeRole != "" {
		stmt = fmt.Sprintf("ALTER ROLE %s SET ROLE TO %s", ident(r.Name), ident(r.AssumeRole))
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return c.explainRole(err, r.Name, "setting assumeRole")
	}
	return nil
}

// ReadRole answers the role as the server has it, or nil when it is gone.
// prior is what the state holds: its password, skip* flags and
// passwordWoVersion carry over, as upstream (the password is read from
// pg_authid only when the provider is declared superuser).
func (c *Client) ReadRole(ctx context.Context, name string, prior Role) (*Role, error) {
	var out *Role
	err := c.inTx(ctx, "", nil, func(tx pgx.Tx) error {
		var r Role
		var config []string
		err := tx.QueryRow(ctx, `SELECT ARRAY(SELECT pg_catalog.pg_get_userbyid(m.roleid) FROM pg_catalog.pg_auth_members m
				WHERE m.member = r.oid ORDER BY 1),
			r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication,
			r.rolbypassrls, r.rolconnlimit, COALESCE(r.rolvaliduntil::text, 'infinity'), COALESCE(r.rolconfig, '{}')
			FROM pg_catalog.pg_roles r WHERE r.rolname = $1`, name).Scan(
			&r.Roles, &r.Name, &r.Superuser, &r.Inherit, &r.CreateRole, &r.CreateDatabase, &r.Login, &r.Replication,
			&r.BypassRLS, &r.ConnectionLimit, &r.ValidUntil, &config)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return c.explainRole(err, name, "reading")
		}
		r.EncryptedPassword = true
		r.SkipDropRole, r.SkipReassignOwned = prior.SkipDropRole, prior.SkipReassignOwned
		r.PasswordWOVersion = prior.PasswordWOVersion
		if len(r.Roles) == 0 {
			r.Roles = nil
		}
		for _, kv := range config {
			key, value, _ := strings.Cut(kv, "=")
			switch key {
			case "search_path":
				for _, p := range strings.Split(value, ", ") {
					r.SearchPath = append(r.SearchPath, strings.Trim(p, `"`))
				}
			case "statement_timeout":
				if r.StatementTimeout, err = strconv.Atoi(value); err != nil {
					return fmt.Errorf("role %q: statement_timeout %q is not a number of milliseconds", name, value)
				}
			case "idle_in_transaction_session_timeout":
				if r.IdleInTxTimeout, err = strconv.Atoi(value); err != nil {
					return fmt.Errorf("role %q: idle_in_transaction_session_timeout %q is not a number of milliseconds", name, value)
				}
			case "role":
				r.AssumeRole = value
			}
		}
		// A timestamp reads back in the server's format: keep the declared
		// text while it names the same instant.
		if prior.ValidUntil != "" && r.ValidUntil != "infinity" && prior.ValidUntil != r.ValidUntil {
			var same bool
			if _, err := tx.Exec(ctx, "SAVEPOINT valid_until"); err == nil {
				if tx.QueryRow(ctx, "SELECT $1::timestamptz = rolvaliduntil FROM pg_catalog.pg_roles WHERE rolname = $2", prior.ValidUntil, name).Scan(&same) == nil && same {
					r.ValidUntil = prior.ValidUntil
				}
				_, _ = tx.Exec(ctx, "ROLLBACK TO SAVEPOINT valid_until")
			}
		}
		if strings.EqualFold(prior.ValidUntil, "infinity") && r.ValidUntil == "infinity" {
			r.ValidUntil = prior.ValidUntil
		}
		pw, err := c.readRolePassword(ctx, tx, r, prior.Password)
		if err != nil {
			return err
		}
		r.Password = pw
		out = &r
		return nil
	})
	return out, err
}

func (c *Client) readRolePassword(ctx context.Context, tx pgx.Tx, r Role, statePassword string) (string, error) {
	// A role that cannot log in has no password worth reading, and a provider
	// declared superuser=false never reads pg_authid (superuser-only).
	if !r.Login || !c.cfg.Superuser {
		return statePassword, nil
	}
	me, err := currentUser(ctx, tx)
	if err != nil {
		return "", err
	}
	if su, err := isSuperuser(ctx, tx, me); err != nil {
		return "", err
	} else if !su {
		return "", fmt.Errorf("role %q: cannot read its password from PostgreSQL because the connected user %q is not a SUPERUSER: set superuser=false in the postgresql provider's configuration (the password is then kept from the state)", r.Name, me)
	}
	var stored string
	err = tx.QueryRow(ctx, "SELECT COALESCE(rolpassword, '') FROM pg_catalog.pg_authid WHERE rolname = $1", r.Name).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", c.explainRole(err, r.Name, "reading the password")
	}
	switch {
	case stored == "" || statePassword == "":
		return stored, nil
	case statePassword == stored:
		return statePassword, nil
	case isHashedPassword(statePassword):
		return stored, nil
	case strings.HasPrefix(stored, "SCRAM-SHA-256$"):
		if scramMatches(stored, statePassword) {
			return statePassword, nil
		}
	case strings.HasPrefix(stored, "md5"):
		sum := md5.Sum([]byte(statePassword + r.Name))
		if "md5"+hex.EncodeToString(sum[:]) == stored {
			return statePassword, nil
		}
	}
	return stored, nil
}

// UpdateRole applies the differences between old (the state) and r, in one
// transaction, as upstream: rename, password, attributes, memberships
// (revoked, then granted), settings.
func (c *Client) UpdateRole(ctx context.Context, old, r Role) (Role, error) {
	err := c.inTx(ctx, "", []string{roleLock(old.Name), roleLock(r.Name)}, func(tx pgx.Tx) error {
		alter := func(doing, clause string) error {
			if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER ROLE %s %s", ident(r.Name), clause)); err != nil {
				return c.explainRole(err, r.Name, doing)
			}
			return nil
		}
		if r.Name != old.Name {
			if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER ROLE %s RENAME TO %s", ident(old.Name), ident(r.Name))); err != nil {
				return c.explainRole(err, old.Name, fmt.Sprintf("renaming to %q", r.Name))
			}
		}
		if r.Password != old.Password || (r.Name != old.Name && r.Password != "") {
			clause := "PASSWORD NULL"
			if r.Password != "" && !strings.EqualFold(r.Password, "NULL") {
				p, err := passwordForSQL(r.Password)
				if err != nil {
					return err
				}
				clause = "ENCRYPTED PASSWORD " + p
			}
			if err := alter("setting the password", clause); err != nil {
				return err
			}
		}
		if r.PasswordWO != "" && r.PasswordWOVersion != old.PasswordWOVersion {
			p, err := passwordForSQL(r.PasswordWO)
			if err != nil {
				return err
			}
			if err := alter("setting the password (passwordWo)", "ENCRYPTED PASSWORD "+p); err != nil {
				return err
			}
		}
		flags := []struct {
			old, new  bool
			yes, no   string
			attribute string
		}{
			{old.BypassRLS, r.BypassRLS, "BYPASSRLS", "NOBYPASSRLS", "BYPASSRLS"},
			{old.CreateDatabase, r.CreateDatabase, "CREATEDB", "NOCREATEDB", "CREATEDB"},
			{old.CreateRole, r.CreateRole, "CREATEROLE", "NOCREATEROLE", "CREATEROLE"},
			{old.Inherit, r.Inherit, "INHERIT", "NOINHERIT", "INHERIT"},
			{old.Login, r.Login, "LOGIN", "NOLOGIN", "LOGIN"},
			{old.Replication, r.Replication, "REPLICATION", "NOREPLICATION", "REPLICATION"},
			{old.Superuser, r.Superuser, "SUPERUSER", "NOSUPERUSER", "SUPERUSER"},
		}
		for _, f := range flags {
			if f.old != f.new {
				if err := alter("setting "+f.attribute, "WITH "+boolOpt(f.new, f.yes, f.no)); err != nil {
					return err
				}
			}
		}
		if r.ConnectionLimit != old.ConnectionLimit {
			if err := alter("setting the connection limit", "CONNECTION LIMIT "+strconv.Itoa(r.ConnectionLimit)); err != nil {
				return err
			}
		}
		if r.ValidUntil != old.ValidUntil && r.ValidUntil != "" {
			v := r.ValidUntil
			if strings.EqualFold(v, "infinity") {
				v = "infinity"
			}
			if err := alter("setting VALID UNTIL", "VALID UNTIL "+literal(v)); err != nil {
				return err
			}
		}
		if !slices.Equal(sortedCopy(old.Roles), sortedCopy(r.Roles)) {
			var current []string
			rows, err := tx.Query(ctx, `SELECT pg_catalog.pg_get_userbyid(m.roleid) FROM pg_catalog.pg_auth_members m
				JOIN pg_catalog.pg_roles r ON m.member = r.oid WHERE r.rolname = $1`, r.Name)
			if err != nil {
				return c.explainRole(err, r.Name, "reading memberships")
			}
			current, err = pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return c.explainRole(err, r.Name, "reading memberships")
			}
			for _, m := range current {
				if _, err := tx.Exec(ctx, fmt.Sprintf("REVOKE %s FROM %s", ident(m), ident(r.Name))); err != nil {
					return c.explainRole(err, r.Name, fmt.Sprintf("revoking membership in %q", m))
				}
			}
			if err := grantMemberships(ctx, c, tx, r); err != nil {
				return err
			}
		}
		if err := setSearchPath(ctx, c, tx, r); err != nil {
			return err
		}
		if r.StatementTimeout != old.StatementTimeout {
			if err := setTimeout(ctx, c, tx, r.Name, "statement_timeout", r.StatementTimeout); err != nil {
				return err
			}
		}
		if r.IdleInTxTimeout != old.IdleInTxTimeout {
			if err := setTimeout(ctx, c, tx, r.Name, "idle_in_transaction_session_timeout", r.IdleInTxTimeout); err != nil {
				return err
			}
		}
		if r.AssumeRole != old.AssumeRole {
			return setAssumeRole(ctx, c, tx, r)
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	return c.roleReadBack(ctx, r)
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// DeleteRole reassigns and drops what the role owns in the provider's
// database (unless skipReassignOwned), then drops it (unless skipDropRole).
// A role already gone is fine.
func (c *Client) DeleteRole(ctx context.Context, r Role) error {
	return c.inTx(ctx, "", []string{roleLock(r.Name)}, func(tx pgx.Tx) error {
		if ok, err := roleExists(ctx, tx, r.Name); err != nil || !ok {
			return err
		}
		if !r.SkipReassignOwned {
			err := withRolesGranted(ctx, tx, []string{r.Name}, func() error {
				me, err := currentUser(ctx, tx)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, fmt.Sprintf("REASSIGN OWNED BY %s TO %s", ident(r.Name), ident(me))); err != nil {
					return c.explainRole(err, r.Name, fmt.Sprintf("reassigning what it owns to %q", me))
				}
				if _, err := tx.Exec(ctx, fmt.Sprintf("DROP OWNED BY %s", ident(r.Name))); err != nil {
					return c.explainRole(err, r.Name, "dropping what it owns")
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if !r.SkipDropRole {
			if _, err := tx.Exec(ctx, "DROP ROLE "+ident(r.Name)); err != nil {
				if sqlState(err) == "2BP01" {
					return &explained{msg: fmt.Sprintf("role %q cannot be dropped: objects in other databases depend on it (%s); reassign or drop them there first (REASSIGN OWNED / DROP OWNED run only in the provider's database)", r.Name, pgMessage(err)), cause: err}
				}
				return c.explainRole(err, r.Name, "dropping")
			}
		}
		return nil
	})
}
