"""Request ids, logging and query timing."""
