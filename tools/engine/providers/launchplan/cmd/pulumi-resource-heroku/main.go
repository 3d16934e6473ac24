// pulumi-resource-heroku: launchplan's own Heroku provider plugin (the
// pulumiverse-heroku schema), for the offline engine. Version is set at
// build time: -ldflags "-X main.version=1.0.4+launchplan".
package main

import (
	"launchplan.local/providers/heroku"
	"launchplan.local/providers/internal/core"
)

var version = "1.0.4+launchplan"

func main() { core.Main(heroku.Provider(version)) }
