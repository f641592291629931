"""Policy as code: validators, their catalog, the offline check."""
