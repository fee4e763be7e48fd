"""What a connector learns of a resource from its node: the schema version in force."""
