"""Every read of the engage app starts from the user's scope; out of scope is NotFound."""
