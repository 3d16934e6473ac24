// Command pulumi-resource-postgresql is launchplan's own PostgreSQL provider
// plugin: the schema of pulumi-postgresql 3.18.2 (provider config, Extension,
// Schema, Role, Grant) on pgx, for the offline engine (see tools/engine/README.md).
package main

import (
	"launchplan.local/providers/internal/core"
	"launchplan.local/providers/postgresql"
)

// version is stamped by tools/engine/build.sh (-X main.version=...).
var version = "3.18.2+launchplan"

func main() { core.Main(postgresql.Provider(version)) }
