"""Personal-data rights: the requests people make to the organization (the controller), which decides and answers
within the legal time (one month, extendable once by two), and the tools it answers them with.

A request's timeline is its audit events (every change is one, by construction); it stores no name or address of
its own: the person is an id, shown from the live row."""
