// Package postgresql is launchplan's own implementation of the schema of the
// pulumi-postgresql 3.18.2 provider (which bridges the Terraform provider
// cyrilgdn/postgresql): the provider configuration, Extension, Schema, Role and
// Grant, on github.com/jackc/pgx/v5. The semantics (what replaces, what
// updates in place, IDs, defaults, what a refresh sees) follow upstream; the
// code is written for this project.
//
// This file holds the connection side: configuration, one pool per database,
// transactions, advisory locks, quoting and error explanations.
package postgresql

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults of the upstream provider for settings the Python SDK leaves unset.
const (
	DefaultPort            = 5432
	DefaultDatabase        = "postgres"
	DefaultUsername        = "postgres"
	DefaultConnectTimeout  = 180
	DefaultMaxConnections  = 20
	DefaultExpectedVersion = "9.0.0"
	DefaultScheme          = "postgres"
	applicationName        = "launchplan pulumi-resource-postgresql"
)

// Config is the provider configuration, already defaulted and validated.
type Config struct {
	Scheme           string
	Host             string
	Port             int
	Username         string
	Password         string
	Database         string
	DatabaseUsername string
	SSLMode          string
	SSLRootCert      string
	ClientCert       string
	ClientKey        string
	Superuser        bool
	ConnectTimeout   int // seconds; 0 waits indefinitely
	MaxConnections   int // 0 = unlimited
	ExpectedVersion  string
}

var sslModes = map[string]bool{"disable": true, "allow": true, "prefer": true, "require": true, "verify-ca": true, "verify-full": true}

// Validate reports settings this plugin cannot honour, with what to do.
func (c Config) Validate() error {
	var problems []string
	switch c.Scheme {
	case "", "postgres":
	case "awspostgres", "gcppostgres":
		problems = append(problems, fmt.Sprintf("scheme %q needs cloud IAM connectors that launchplan's offline plugin does not include: connect with scheme \"postgres\" and a password", c.Scheme))
	default:
		problems = append(problems, fmt.Sprintf("scheme %q is not one of postgres, awspostgres, gcppostgres", c.Scheme))
	}
	if c.SSLMode != "" && !sslModes[c.SSLMode] {
		problems = append(problems, fmt.Sprintf("sslmode %q is not one of disable, allow, prefer, require, verify-ca, verify-full", c.SSLMode))
	}
	if c.Port <= 0 || c.Port > 65535 {
		problems = append(problems, fmt.Sprintf("port %d is not a TCP port (1-65535)", c.Port))
	}
	if c.ConnectTimeout < -1 {
		problems = append(problems, fmt.Sprintf("connectTimeout %d must be at least -1", c.ConnectTimeout))
	}
	if c.MaxConnections < -1 {
		problems = append(problems, fmt.Sprintf("maxConnections %d must be at least -1", c.MaxConnections))
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		problems = append(problems, "clientcert needs both cert and key")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Client holds one connection pool per database of the server.
type Client struct {
	cfg   Config
	mu    sync.Mutex
	pools map[string]*pgxpool.Pool
}

// NewClient connects lazily: nothing happens until the first statement.
func NewClient(cfg Config) *Client {
	if cfg.Database == "" {
		cfg.Database = DefaultDatabase
	}
	return &Client{cfg: cfg, pools: map[string]*pgxpool.Pool{}}
}

// Config answers the configuration the client was made with.
func (c *Client) Config() Config { return c.cfg }

// Close closes every pool.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, p := range c.pools {
		p.Close()
		delete(c.pools, name)
	}
}

// database answers the database a resource works in: its own, or the provider's.
func (c *Client) database(name string) string {
	if name == "" {
		return c.cfg.Database
	}
	return name
}

// CurrentUser answers the name the provider's credential acts as in SQL:
// databaseUsername when set (user name maps, e.g. Azure), else username.
func (c *Client) CurrentUser() string {
	if c.cfg.DatabaseUsername != "" {
		return c.cfg.DatabaseUsername
	}
	return c.cfg.Username
}

// connString renders a keyword/value connection string; values are quoted,
// so a password with spaces or quotes stays one value.
func (c *Client) connString(database string) string {
	q := func(v string) string {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `'`, `\'`) + "'"
	}
	host := c.cfg.Host
	if host == "" {
		host = "localhost"
	}
	parts := []string{
		"host=" + q(host),
		"port=" + strconv.Itoa(c.cfg.Port),
		"dbname=" + q(database),
		"user=" + q(c.cfg.Username),
		"application_name=" + q(applicationName),
	}
	if c.cfg.Password != "" {
		parts = append(parts, "password="+q(c.cfg.Password))
	}
	if c.cfg.SSLMode != "" {
		parts = append(parts, "sslmode="+q(c.cfg.SSLMode))
	}
	if c.cfg.SSLRootCert != "" {
		parts = append(parts, "sslrootcert="+q(c.cfg.SSLRootCert))
	}
	if c.cfg.ClientCert != "" {
		parts = append(parts, "sslcert="+q(c.cfg.ClientCert), "sslkey="+q(c.cfg.ClientKey))
	}
	return strings.Join(parts, " ")
}

func (c *Client) pool(ctx context.Context, database string) (*pgxpool.Pool, error) {
	database = c.database(database)
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pools[database]; ok {
		return p, nil
	}
	pc, err := pgxpool.ParseConfig(c.connString(database))
	if err != nil {
		return nil, fmt.Errorf("invalid connection settings: %s", c.scrub(err.Error()))
	}
	if c.cfg.ConnectTimeout > 0 {
		pc.ConnConfig.ConnectTimeout = time.Duration(c.cfg.ConnectTimeout) * time.Second
	} else {
		pc.ConnConfig.ConnectTimeout = 0
	}
	if c.cfg.MaxConnections > 0 {
		pc.MaxConns = int32(c.cfg.MaxConnections)
	} else {
		pc.MaxConns = 1000
	}
	pc.MinConns = 0
	pc.MaxConnIdleTime = time.Minute
	p, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("cannot open a connection pool to database %q: %s", database, c.scrub(err.Error()))
	}
	c.pools[database] = p
	return p, nil
}

// scrub removes the provider's password from a message, should a driver
// ever echo it.
func (c *Client) scrub(msg string) string {
	if c.cfg.Password != "" {
		msg = strings.ReplaceAll(msg, c.cfg.Password, "[secret]")
	}
	return msg
}

// inTx runs fn in one transaction on database ("" = the provider's), after
// taking the advisory locks named (released at commit or rollback).
func (c *Client) inTx(ctx context.Context, database string, locks []string, fn func(tx pgx.Tx) error) error {
	p, err := c.pool(ctx, database)
	if err != nil {
		return err
	}
	tx, err := p.Begin(ctx)
	if err != nil {
		return c.connectError(database, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	for _, l := range locks {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "launchplan-postgresql:"+l); err != nil {
			return fmt.Errorf("could not take the lock %q: %w", l, err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("could not commit: %w", err)
	}
	return nil
}

// explained is an error with a message of ours that still unwraps to the
// driver's error (so SQLSTATEs stay visible to callers).
type explained struct {
	msg   string
	cause error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.cause }

// isMissingDatabase: the error says the database does not exist.
func isMissingDatabase(err error) bool { return sqlState(err) == "3D000" }

// connectError explains a failure to connect, naming the server and user
// but never the password.
func (c *Client) connectError(database string, err error) error {
	e := c.connectError1(database, err)
	return &explained{msg: e.Error(), cause: err}
}

func (c *Client) connectError1(database string, err error) error {
	addr := net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port))
	msg := c.scrub(err.Error())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01", "28000":
			return fmt.Errorf("PostgreSQL at %s refused user %q for database %q (%s): check the provider's username and password", addr, c.cfg.Username, c.database(database), pgErr.Message)
		case "3D000":
			return fmt.Errorf("database %q does not exist on the PostgreSQL server at %s: create it first or fix the database name", c.database(database), addr)
		case "42501":
			return fmt.Errorf("user %q may not connect to database %q at %s (%s): grant it CONNECT, or use a credential of that database", c.cfg.Username, c.database(database), addr, pgErr.Message)
		}
	}
	return fmt.Errorf("cannot connect to PostgreSQL at %s as %q (database %q): %s; check host, port, sslmode and that the server is running", addr, c.cfg.Username, c.database(database), msg)
}

// ident quotes one identifier.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// qualified quotes schema.name.
func qualified(schema, name string) string { return pgx.Identifier{schema, name}.Sanitize() }

// literal quotes a string constant; works whatever standard_conforming_strings says.
func literal(s string) string {
	s = strings.ReplaceAll(s, `'`, `''`)
	if strings.Contains(s, `\`) {
		return "E'" + strings.ReplaceAll(s, `\`, `\\`) + "'"
	}
	return "'" + s + "'"
}

// sqlState answers the SQLSTATE of a PostgreSQL error, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// pgMessage answers the server's message for a PostgreSQL error (with its
// detail and hint), else the error text.
func pgMessage(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		msg := pgErr.Message
		if pgErr.Detail != "" {
			msg += " (" + pgErr.Detail + ")"
		}
		if pgErr.Hint != "" {
			msg += "; hint: " + pgErr.Hint
		}
		return msg
	}
	return err.Error()
}

func exists(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, sql string, args ...any) (bool, error) {
	var one int
	err := q.QueryRow(ctx, sql, args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func currentUser(ctx context.Context, tx pgx.Tx) (string, error) {
	var u string
	err := tx.QueryRow(ctx, "SELECT current_user").Scan(&u)
	return u, err
}

func isSuperuser(ctx context.Context, tx pgx.Tx, role string) (bool, error) {
	var su bool
	err := tx.QueryRow(ctx, "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = $1", role).Scan(&su)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return su, err
}

func roleExists(ctx context.Context, tx pgx.Tx, role string) (bool, error) {
	return exists(ctx, tx, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", role)
}

func databaseExists(ctx context.Context, tx pgx.Tx, name string) (bool, error) {
	return exists(ctx, tx, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", name)
}

func schemaExists(ctx context.Context, tx pgx.Tx, name string) (bool, error) {
	return exists(ctx, tx, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", name)
}

// isMember: member can SET ROLE to role (direct membership; PG16+ also needs set_option).
func isMember(ctx context.Context, tx pgx.Tx, role, member string) (bool, error) {
	hasSet, err := exists(ctx, tx, "SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = 'pg_catalog.pg_auth_members'::regclass AND attname = 'set_option'")
	if err != nil {
		return false, err
	}
	q := "SELECT 1 FROM pg_catalog.pg_auth_members WHERE roleid = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1) AND member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $2)"
	if hasSet {
		q += " AND set_option"
	}
	return exists(ctx, tx, q, role, member)
}

// withRolesGranted makes the connected user a temporary member of roles (as
// upstream does for credentials that are not superusers, e.g. on RDS or
// Heroku), runs fn, and takes the memberships back, all in tx.
func withRolesGranted(ctx context.Context, tx pgx.Tx, roles []string, fn func() error) error {
	if len(roles) == 0 {
		return fn()
	}
	me, err := currentUser(ctx, tx)
	if err != nil {
		return err
	}
	if su, err := isSuperuser(ctx, tx, me); err != nil {
		return err
	} else if su {
		return fn()
	}
	var granted, reversed []string
	seen := map[string]bool{}
	for _, role := range roles {
		if role == "" || role == me || seen[role] {
			continue
		}
		seen[role] = true
		if su, err := isSuperuser(ctx, tx, role); err != nil {
			return err
		} else if su {
			continue // a non-superuser cannot be granted a superuser role
		}
		// PostgreSQL refuses circular membership: drop role ∈ me while me ∈ role.
		if rev, err := isMember(ctx, tx, me, role); err != nil {
			return err
		} else if rev {
			if _, err := tx.Exec(ctx, fmt.Sprintf("REVOKE %s FROM %s", ident(me), ident(role))); err != nil {
				return fmt.Errorf("could not temporarily revoke %s from %s: %s", me, role, pgMessage(err))
			}
			reversed = append(reversed, role)
		}
		if m, err := isMember(ctx, tx, role, me); err != nil {
			return err
		} else if !m {
			if _, err := tx.Exec(ctx, fmt.Sprintf("GRANT %s TO %s", ident(role), ident(me))); err != nil {
				return fmt.Errorf("user %q needs the privileges of role %q for this and could not take them (%s): use a credential that is a member of %q, or a superuser", me, role, pgMessage(err), role)
			}
			granted = append(granted, role)
		}
	}
	if err := fn(); err != nil {
		return err
	}
	for _, role := range granted {
		if _, err := tx.Exec(ctx, fmt.Sprintf("REVOKE %s FROM %s", ident(role), ident(me))); err != nil {
			return fmt.Errorf("could not revoke the temporary membership of %s in %s: %s", me, role, pgMessage(err))
		}
	}
	for _, role := range reversed {
		if ok, err := roleExists(ctx, tx, role); err != nil {
			return err
		} else if ok {
			if _, err := tx.Exec(ctx, fmt.Sprintf("GRANT %s TO %s", ident(me), ident(role))); err != nil {
				return fmt.Errorf("could not restore the membership of %s in %s: %s", role, me, pgMessage(err))
			}
		}
	}
	return nil
}

// ServerVersion answers server_version_num (e.g. 180001).
func (c *Client) ServerVersion(ctx context.Context) (int, error) {
	var v int
	err := c.inTx(ctx, "", nil, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&v)
	})
	return v, err
}
