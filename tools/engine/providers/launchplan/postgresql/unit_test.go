package postgresql

import (
	"strings"
	"testing"
)

func TestScramVerifierRoundTrip(t *testing.T) {
	v, err := scramVerifier("correct horse", nil, scramIterations)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "SCRAM-SHA-256$4096:") || !scramMatches(v, "correct horse") || scramMatches(v, "wrong horse") {
		t.Fatalf("verifier %q", v)
	}
	// RFC 7677's test vector (user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations):
	// ServerKey and StoredKey as PostgreSQL stores them.
	known := "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
	if !scramMatches(known, "pencil") {
		t.Fatal("RFC 7677 vector does not verify")
	}
	for _, bad := range []string{"", "md5abc", "SCRAM-SHA-256$x:y$z", "SCRAM-SHA-256$4096:!!$a:b"} {
		if scramMatches(bad, "pencil") {
			t.Fatalf("%q verified", bad)
		}
	}
}

func TestPasswordNeverInSQLInPlain(t *testing.T) {
	got, err := passwordForSQL("hunter2")
	if err != nil || strings.Contains(got, "hunter2") || !strings.HasPrefix(got, "'SCRAM-SHA-256$") {
		t.Fatalf("%q %v", got, err)
	}
	hashed := "md5" + strings.Repeat("a", 32)
	if got, _ := passwordForSQL(hashed); got != "'"+hashed+"'" {
		t.Fatalf("a hashed password is passed through: %q", got)
	}
}

func TestLiteralAndIdentQuoting(t *testing.T) {
	cases := map[string]string{`it's`: `'it''s'`, `a\b`: `E'a\\b'`, `x\'y`: `E'x\\''y'`}
	for in, want := range cases {
		if got := literal(in); got != want {
			t.Errorf("literal(%q) = %s, want %s", in, got, want)
		}
	}
	if got := ident(`we"ird`); got != `"we""ird"` {
		t.Errorf("ident: %s", got)
	}
	if got := objectName("s", "f(text, int)"); got != `"s"."f"(text, int)` {
		t.Errorf("objectName: %s", got)
	}
}

func TestConnStringQuotesEveryValue(t *testing.T) {
	c := NewClient(Config{Host: "h", Port: 5432, Username: "u", Password: `p w'\x`, SSLMode: "require"})
	cs := c.connString("d b")
	for _, want := range []string{`password='p w\'\\x'`, `dbname='d b'`, `sslmode='require'`} {
		if !strings.Contains(cs, want) {
			t.Errorf("%s lacks %s", cs, want)
		}
	}
	if got := c.scrub("failed for `p w'\\x`"); strings.Contains(got, `p w'\x`) {
		t.Errorf("scrub left the password: %s", got)
	}
}

func TestGrantValidationAndID(t *testing.T) {
	ok := Grant{Role: "r", Database: "d", Schema: "s", ObjectType: "table", Privileges: []string{"SELECT"}}
	if p := ok.Validate(); len(p) != 0 {
		t.Fatal(p)
	}
	if GrantID(ok) != "r_d_s_table" {
		t.Fatal(GrantID(ok))
	}
	db := Grant{Role: "r", Database: "d", ObjectType: "database", Privileges: []string{"CONNECT"}}
	if GrantID(db) != "r_d_database" {
		t.Fatal(GrantID(db))
	}
	objs := ok
	objs.Objects = []string{"b", "a"}
	if GrantID(objs) != "r_d_s_table_a_b" {
		t.Fatal(GrantID(objs))
	}
	bad := []Grant{
		{Role: "r", Database: "d", ObjectType: "table", Privileges: []string{"SELECT"}},                             // no schema
		{Role: "r", Database: "d", ObjectType: "database", Privileges: []string{"SELECT"}},                          // wrong privilege
		{Role: "r", Database: "d", ObjectType: "database", Objects: []string{"x"}, Privileges: []string{"CONNECT"}}, // objects
		{Role: "r", Database: "d", Schema: "s", ObjectType: "column", Privileges: []string{"SELECT"}},               // no columns/table
		{Role: "r", Database: "d", ObjectType: "view", Privileges: []string{"SELECT"}},                              // type
	}
	for _, g := range bad {
		if len(g.Validate()) == 0 {
			t.Errorf("accepted %+v", g)
		}
	}
	if !privilegesEqual([]string{"USAGE", "CREATE"}, Grant{ObjectType: "schema", Privileges: []string{"ALL"}}) {
		t.Error("ALL on schema should equal CREATE+USAGE")
	}
	if privilegesEqual([]string{"USAGE"}, Grant{ObjectType: "schema", Privileges: []string{"ALL"}}) {
		t.Error("USAGE alone is not ALL")
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Port: 5432, SSLMode: "require"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Config{{Port: 0}, {Port: 5432, SSLMode: "sometimes"}, {Port: 5432, Scheme: "awspostgres"}, {Port: 5432, ClientCert: "c"}} {
		if c.Validate() == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}
