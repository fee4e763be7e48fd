"""The directory: nodes, departments and resources this node knows (like X-Road's global conf).

Every platform reads it; the catalogue of resources is built from `schemas/`.
"""
