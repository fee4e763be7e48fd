"""Tests of the connector a department runs."""
