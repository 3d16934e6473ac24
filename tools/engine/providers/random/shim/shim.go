// Package shim exposes the upstream random provider's Plugin Framework
// provider (which lives in an internal package) to the bridge.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"

	p "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns the upstream Terraform random provider.
func NewProvider() provider.Provider { return p.New() }
