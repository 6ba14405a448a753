"""The administrators' web console: accounts, sign-in, the audit log, and pages over the services."""
