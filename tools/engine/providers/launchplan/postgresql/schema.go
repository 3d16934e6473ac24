package postgresql

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Schema is postgresql:index/schema:Schema. Upstream: database forces a
// replacement; a new name renames in place (ALTER SCHEMA ... RENAME TO); the
// owner changes in place; ID "<database>.<name>". An existing schema of the
// same name is adopted (its owner set when one is declared).
type Schema struct {
	Name        string
	Database    string // "" = the provider's database (computed)
	Owner       string // "" = the creating user (computed)
	IfNotExists bool
	DropCascade bool
}

// SchemaID is upstream's ID: database.name.
func SchemaID(database, name string) string { return database + "." + name }

// ParseSchemaID splits an import ID "database.schema".
func ParseSchemaID(id string) (database, name string, err error) {
	parts := strings.Split(id, ".")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", fmt.Errorf("schema ID %q has not the expected format 'database.schema'", id)
	}
	return parts[0], parts[1], nil
}

func databaseOwner(ctx context.Context, tx pgx.Tx) (string, error) {
	var owner string
	err := tx.QueryRow(ctx, "SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_catalog.pg_database WHERE datname = current_database()").Scan(&owner)
	return owner, err
}

func schemaOwner(ctx context.Context, tx pgx.Tx, name string) (string, error) {
	var owner string
	err := tx.QueryRow(ctx, "SELECT pg_catalog.pg_get_userbyid(nspowner) FROM pg_catalog.pg_namespace WHERE nspname = $1", name).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return owner, err
}

// CreateSchema creates (or adopts) the schema and answers what is there.
func (c *Client) CreateSchema(ctx context.Context, s Schema) (Schema, error) {
	s.Database = c.database(s.Database)
	err := c.inTx(ctx, s.Database, []string{"catalog:" + s.Database}, func(tx pgx.Tx) error {
		dbOwner, err := databaseOwner(ctx, tx)
		if err != nil {
			return fmt.Errorf("schema %q: reading the owner of database %q: %s", s.Name, s.Database, pgMessage(err))
		}
		roles := []string{dbOwner}
		if s.Owner != "" && s.Owner != dbOwner {
			roles = append(roles, s.Owner)
		}
		return withRolesGranted(ctx, tx, roles, func() error {
			found, err := schemaExists(ctx, tx, s.Name)
			if err != nil {
				return err
			}
			if found {
				if s.Owner == "" {
					return nil
				}
				return alterSchemaOwner(ctx, tx, s)
			}
			stmt := "CREATE SCHEMA "
			if s.IfNotExists {
				stmt += "IF NOT EXISTS "
			}
			stmt += ident(s.Name)
			if s.Owner != "" {
				stmt += " AUTHORIZATION " + ident(s.Owner)
			}
			if _, err := tx.Exec(ctx, stmt); err != nil {
				if sqlState(err) == "42501" {
					return fmt.Errorf("not allowed to create schema %q in database %q (%s): the provider's user needs CREATE on the database (or must own it)", s.Name, s.Database, pgMessage(err))
				}
				return fmt.Errorf("creating schema %q in database %q: %s", s.Name, s.Database, pgMessage(err))
			}
			return nil
		})
	})
	if err != nil {
		return s, err
	}
	return c.readBack(ctx, s)
}

func (c *Client) readBack(ctx context.Context, s Schema) (Schema, error) {
	got, err := c.ReadSchema(ctx, s.Database, s.Name)
	if err != nil {
		return s, err
	}
	if got == nil {
		return s, fmt.Errorf("schema %q is missing from database %q right after it was written", s.Name, s.Database)
	}
	got.IfNotExists, got.DropCascade = s.IfNotExists, s.DropCascade
	return *got, nil
}

func alterSchemaOwner(ctx context.Context, tx pgx.Tx, s Schema) error {
	if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER SCHEMA %s OWNER TO %s", ident(s.Name), ident(s.Owner))); err != nil {
		return fmt.Errorf("setting the owner of schema %q to %q: %s", s.Name, s.Owner, pgMessage(err))
	}
	return nil
}

// ReadSchema answers the schema, or nil when it (or its database) is gone.
func (c *Client) ReadSchema(ctx context.Context, database, name string) (*Schema, error) {
	database = c.database(database)
	var out *Schema
	err := c.inTx(ctx, database, nil, func(tx pgx.Tx) error {
		owner, err := schemaOwner(ctx, tx, name)
		if err != nil {
			return fmt.Errorf("reading schema %q in database %q: %s", name, database, pgMessage(err))
		}
		if owner != "" {
			out = &Schema{Name: name, Database: database, Owner: owner}
		}
		return nil
	})
	if isMissingDatabase(err) {
		return nil, nil
	}
	return out, err
}

// UpdateSchema renames the schema and/or changes its owner, in one transaction.
func (c *Client) UpdateSchema(ctx context.Context, old, s Schema) (Schema, error) {
	s.Database = c.database(s.Database)
	err := c.inTx(ctx, s.Database, []string{"catalog:" + s.Database}, func(tx pgx.Tx) error {
		current, err := schemaOwner(ctx, tx, old.Name)
		if err != nil {
			return err
		}
		roles := []string{current}
		if s.Owner != "" {
			roles = append(roles, s.Owner)
		}
		return withRolesGranted(ctx, tx, roles, func() error {
			if s.Name != old.Name {
				if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER SCHEMA %s RENAME TO %s", ident(old.Name), ident(s.Name))); err != nil {
					return fmt.Errorf("renaming schema %q to %q in database %q: %s", old.Name, s.Name, s.Database, pgMessage(err))
				}
			}
			if s.Owner != "" && s.Owner != old.Owner {
				return alterSchemaOwner(ctx, tx, s)
			}
			return nil
		})
	})
	if err != nil {
		return s, err
	}
	return c.readBack(ctx, s)
}

// DeleteSchema drops the schema (RESTRICT, or CASCADE with dropCascade); a
// schema already gone is fine.
func (c *Client) DeleteSchema(ctx context.Context, s Schema) error {
	s.Database = c.database(s.Database)
	err := c.inTx(ctx, s.Database, []string{"catalog:" + s.Database}, func(tx pgx.Tx) error {
		owner, err := schemaOwner(ctx, tx, s.Name)
		if err != nil || owner == "" {
			return err
		}
		mode := "RESTRICT"
		if s.DropCascade {
			mode = "CASCADE"
		}
		return withRolesGranted(ctx, tx, []string{owner}, func() error {
			if _, err := tx.Exec(ctx, fmt.Sprintf("DROP SCHEMA %s %s", ident(s.Name), mode)); err != nil {
				if sqlState(err) == "2BP01" {
					return fmt.Errorf("schema %q in database %q still holds objects (%s): drop them first, or set dropCascade=true to drop them with the schema", s.Name, s.Database, pgMessage(err))
				}
				return fmt.Errorf("dropping schema %q in database %q: %s", s.Name, s.Database, pgMessage(err))
			}
			return nil
		})
	})
	if isMissingDatabase(err) {
		return nil
	}
	return err
}
