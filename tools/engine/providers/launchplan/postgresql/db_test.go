package postgresql

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Tests against a real server read a superuser URL from
// LAUNCHPLAN_TEST_PG_DSN (postgres://user:password@host:port/db) and skip
// without it. tests/integration/test_provider_postgresql.py runs them with
// the repository's embedded PostgreSQL, so they never silently skip there.
const dsnEnv = "LAUNCHPLAN_TEST_PG_DSN"

func configFromURL(t *testing.T, raw string) Config {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", dsnEnv, err)
	}
	port := DefaultPort
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	pw, _ := u.User.Password()
	sslmode := u.Query().Get("sslmode")
	if sslmode == "" {
		sslmode = "disable"
	}
	return Config{
		Host: u.Hostname(), Port: port, Username: u.User.Username(), Password: pw,
		Database: strings.TrimPrefix(u.Path, "/"), SSLMode: sslmode, Superuser: true,
		ConnectTimeout: 10, MaxConnections: 5,
	}
}

func randomName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

type testServer struct {
	super Config  // superuser on the scratch database
	owner Config  // the scratch database's owner: no superuser, no CREATEROLE (like Heroku's default credential)
	admin *Client // superuser client for arranging and checking
	db    string
}

// scratch makes a database owned by a fresh login role, as Heroku Postgres
// gives one, and removes both (and every role the test made) afterwards.
func scratch(t *testing.T) *testServer {
	t.Helper()
	raw := os.Getenv(dsnEnv)
	if raw == "" {
		t.Skipf("%s is not set: no PostgreSQL server to test against (tests/integration/test_provider_postgresql.py sets it)", dsnEnv)
	}
	base := configFromURL(t, raw)
	root := NewClient(base)
	t.Cleanup(root.Close)
	ctx := context.Background()
	db := randomName("lp_db_")
	owner := randomName("lp_owner_")
	ownerPw := hex.EncodeToString([]byte(randomName("pw")))
	exec := func(c *Client, database, stmt string) {
		t.Helper()
		p, err := c.pool(ctx, database)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	exec(root, "", "CREATE ROLE "+owner+" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD "+literal(ownerPw))
	exec(root, "", "CREATE DATABASE "+db+" OWNER "+owner)
	exec(root, "", "REVOKE ALL ON DATABASE "+db+" FROM PUBLIC")
	super := base
	super.Database = db
	admin := NewClient(super)
	ts := &testServer{super: super, admin: admin, db: db}
	ts.owner = base
	ts.owner.Database, ts.owner.Username, ts.owner.Password, ts.owner.Superuser = db, owner, ownerPw, false
	t.Cleanup(func() {
		admin.Close()
		exec(root, "", "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		exec(root, "", "DROP ROLE IF EXISTS "+owner)
	})
	return ts
}

// roleName answers a fresh role name; the role (and what it owns in the
// scratch database) is dropped after the test.
func (s *testServer) roleName(t *testing.T) string {
	t.Helper()
	name := randomName("lp_t_")
	t.Cleanup(func() {
		ctx := context.Background()
		_ = s.admin.inTx(ctx, "", nil, func(tx pgx.Tx) error {
			if ok, _ := roleExists(ctx, tx, name); ok {
				_, _ = tx.Exec(ctx, "DROP OWNED BY "+ident(name))
				_, _ = tx.Exec(ctx, "DROP ROLE "+ident(name))
			}
			return nil
		})
	})
	return name
}

// sql runs statements as the superuser in the scratch database.
func (s *testServer) sql(t *testing.T, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	for _, stmt := range stmts {
		if err := s.admin.inTx(ctx, "", nil, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, stmt); return err }); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

func (s *testServer) query(t *testing.T, q string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	var out string
	if err := s.admin.inTx(ctx, "", nil, func(tx pgx.Tx) error { return tx.QueryRow(ctx, q, args...).Scan(&out) }); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestConnectErrorsNameServerNotPassword(t *testing.T) {
	s := scratch(t)
	bad := s.owner
	bad.Password = "wrong-" + randomName("secret")
	c := NewClient(bad)
	defer c.Close()
	_, err := c.ServerVersion(ctxT(t))
	if err == nil {
		t.Fatal("a wrong password connected")
	}
	msg := err.Error()
	if strings.Contains(msg, bad.Password) {
		t.Fatalf("error shows the password: %s", msg)
	}
	if !strings.Contains(msg, bad.Username) || !strings.Contains(msg, "password") {
		t.Fatalf("error does not name the user and what to check: %s", msg)
	}
	missing := s.owner
	missing.Database = "lp_no_such_db"
	c2 := NewClient(missing)
	defer c2.Close()
	if _, err := c2.ServerVersion(ctxT(t)); err == nil || !isMissingDatabase(err) {
		t.Fatalf("missing database not recognised: %v", err)
	}
}
