"""The app's workloads (api, worker, frontend) and what surrounds them, as pure Kubernetes objects."""
