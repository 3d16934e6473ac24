"""launchplan's own dynamic providers, for what no Pulumi provider covers, and their HTTP client."""
