"""Examples that plug into the harness from outside the package (see README, "Workloads")."""
