"""The assurance systems (standards, security, operations): what the DAGs and `hub check` call."""
