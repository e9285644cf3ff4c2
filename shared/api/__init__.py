"""HTTP plumbing shared by every function: resolver factory, auth, problems, pagination."""
