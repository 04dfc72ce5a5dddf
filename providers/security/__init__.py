"""Security findings: holes in the estate itself (AWS and Kubernetes), never fixed for you."""
