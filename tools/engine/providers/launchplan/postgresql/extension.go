package postgresql

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Extension is postgresql:index/extension:Extension. Upstream: name and
// database force a replacement; schema and version change in place (ALTER
// EXTENSION ... SET SCHEMA / UPDATE TO); ID "<database>.<name>".
type Extension struct {
	Name          string
	Schema        string // "" = the server's choice (computed)
	Version       string // "" = the default version (computed)
	Database      string // "" = the provider's database (computed)
	CreateCascade bool
	DropCascade   bool
}

// ExtensionID is upstream's ID: database.name.
func ExtensionID(database, name string) string { return database + "." + name }

// ParseExtensionID splits an import ID "database.extension".
func ParseExtensionID(id string) (database, name string, err error) {
	parts := strings.Split(id, ".")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", fmt.Errorf("extension ID %q has not the expected format 'database.extension'", id)
	}
	return parts[0], parts[1], nil
}

func (c *Client) extensionLock(database string) []string { return []string{"catalog:" + database} }

// CreateExtension runs CREATE EXTENSION IF NOT EXISTS and answers what is there.
func (c *Client) CreateExtension(ctx context.Context, e Extension) (Extension, error) {
	e.Database = c.database(e.Database)
	var b strings.Builder
	b.WriteString("CREATE EXTENSION IF NOT EXISTS " + ident(e.Name))
	if e.Schema != "" {
		b.WriteString(" SCHEMA " + ident(e.Schema))
	}
	if e.Version != "" {
		b.WriteString(" VERSION " + ident(e.Version))
	}
	if e.CreateCascade {
		b.WriteString(" CASCADE")
	}
	err := c.inTx(ctx, e.Database, c.extensionLock(e.Database), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, b.String()); err != nil {
			return explainExtension(err, e)
		}
		return nil
	})
	if err != nil {
		return e, err
	}
	got, err := c.ReadExtension(ctx, e.Database, e.Name)
	if err != nil {
		return e, err
	}
	if got == nil {
		return e, fmt.Errorf("extension %q was created in database %q but cannot be read back", e.Name, e.Database)
	}
	got.CreateCascade, got.DropCascade = e.CreateCascade, e.DropCascade
	return *got, nil
}

func explainExtension(err error, e Extension) error {
	switch sqlState(err) {
	case "42501":
		return fmt.Errorf("not allowed to create extension %q in database %q: %s; only trusted extensions may be created by a non-superuser (on Heroku Postgres: see `heroku pg:extensions`), otherwise use a superuser credential", e.Name, e.Database, pgMessage(err))
	case "0A000", "58P01", "22023":
		return fmt.Errorf("extension %q cannot be installed in database %q: %s; check its name and version against pg_available_extension_versions", e.Name, e.Database, pgMessage(err))
	case "3F000":
		return fmt.Errorf("extension %q: schema %q does not exist in database %q: create the schema first (depends_on)", e.Name, e.Schema, e.Database)
	}
	return fmt.Errorf("extension %q in database %q: %s", e.Name, e.Database, pgMessage(err))
}

// ReadExtension answers the extension as installed, or nil when it is not.
func (c *Client) ReadExtension(ctx context.Context, database, name string) (*Extension, error) {
	database = c.database(database)
	var out *Extension
	err := c.inTx(ctx, database, nil, func(tx pgx.Tx) error {
		var schema, version string
		err := tx.QueryRow(ctx, `SELECT n.nspname, e.extversion FROM pg_catalog.pg_extension e
			JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1`, name).Scan(&schema, &version)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading extension %q in database %q: %s", name, database, pgMessage(err))
		}
		out = &Extension{Name: name, Schema: schema, Version: version, Database: database}
		return nil
	})
	if isMissingDatabase(err) {
		return nil, nil // the database is gone, and the extension with it
	}
	return out, err
}

// UpdateExtension moves the extension to another schema and/or version.
func (c *Client) UpdateExtension(ctx context.Context, old, e Extension) (Extension, error) {
	e.Database = c.database(e.Database)
	err := c.inTx(ctx, e.Database, c.extensionLock(e.Database), func(tx pgx.Tx) error {
		if e.Schema != "" && e.Schema != old.Schema {
			if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER EXTENSION %s SET SCHEMA %s", ident(e.Name), ident(e.Schema))); err != nil {
				return fmt.Errorf("moving extension %q to schema %q: %s", e.Name, e.Schema, pgMessage(err))
			}
		}
		if e.Version != old.Version && !(e.Version == "" && old.Version != "") {
			stmt := fmt.Sprintf("ALTER EXTENSION %s UPDATE", ident(e.Name))
			if e.Version != "" {
				stmt += " TO " + ident(e.Version)
			}
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("updating extension %q to version %q: %s", e.Name, e.Version, pgMessage(err))
			}
		}
		return nil
	})
	if err != nil {
		return e, err
	}
	got, err := c.ReadExtension(ctx, e.Database, e.Name)
	if err != nil {
		return e, err
	}
	if got == nil {
		return e, fmt.Errorf("extension %q is gone from database %q", e.Name, e.Database)
	}
	got.CreateCascade, got.DropCascade = e.CreateCascade, e.DropCascade
	return *got, nil
}

// DeleteExtension drops the extension (RESTRICT, or CASCADE with dropCascade).
func (c *Client) DeleteExtension(ctx context.Context, e Extension) error {
	e.Database = c.database(e.Database)
	mode := "RESTRICT"
	if e.DropCascade {
		mode = "CASCADE"
	}
	return c.inTx(ctx, e.Database, c.extensionLock(e.Database), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf("DROP EXTENSION IF EXISTS %s %s", ident(e.Name), mode)); err != nil {
			if sqlState(err) == "2BP01" {
				return fmt.Errorf("extension %q in database %q is still used by other objects (%s): drop those first, or set dropCascade=true to drop them with it", e.Name, e.Database, pgMessage(err))
			}
			return fmt.Errorf("dropping extension %q in database %q: %s", e.Name, e.Database, pgMessage(err))
		}
		return nil
	})
}
