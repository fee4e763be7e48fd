"""The base registries (population, legal person, geospatial, credit, macroeconomy, materials)."""
