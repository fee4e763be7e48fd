"""The connector: the front-end processor a department runs to exchange batches with its hub."""
