-- Run once by the primary's entrypoint: a role for the streaming replica and the Airflow DB.
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD 'change-me';
CREATE DATABASE airflow OWNER hub;
