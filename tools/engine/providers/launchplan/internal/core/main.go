package core

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Main runs the plugin: `-version` (or `--version`) prints p.Version and
// exits; anything else serves gRPC through the SDK's provider main (the
// engine's address as argument, `-tracing` etc. as the SDK defines).
func Main(p *Provider) {
	for _, a := range os.Args[1:] {
		if a == "-version" || a == "--version" {
			fmt.Println(p.Version)
			return
		}
	}
	err := provider.Main(p.Name, func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return NewServer(p, host), nil
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-%s: %v\n", p.Name, err)
		os.Exit(1)
	}
}
