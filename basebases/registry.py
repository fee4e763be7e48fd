"""The explicit map of base registries. A new registry is one module, one schema, one line here."""

from __future__ import annotations

from basebases.credit import Credit
from basebases.geospatial import Geospatial
from basebases.legal_person import LegalPerson
from basebases.macroeconomy import Macroeconomy
from basebases.materials import Materials
from basebases.population import Population
from basebases.protocol import Registry

REGISTRIES: dict[str, Registry] = {
    r.kind: r
    for r in (Population(), LegalPerson(), Geospatial(), Credit(), Macroeconomy(), Materials())
}


def registry_for(resource: str) -> Registry | None:
    """The registry that keeps a resource, if any (not every resource is a base registry)."""
    return next((r for r in REGISTRIES.values() if resource in r.resources), None)
