"""Pulumi component resources, one per thing a stack declares; children hang under their parent."""
